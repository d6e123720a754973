// Declarative command-line parsing for the voxgan executables: each command describes its
// arguments and options once, with help text beside each, and gets `--help`, one-line usage
// errors and typed accessors from that description.
import Foundation

/// A user error on the command line: printed as one line, exit status 2.
public struct UsageError: Error, CustomStringConvertible {

    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// A failure that is the user's input, not a bug (bad file, bad value): printed as one line,
/// exit status 1.
public struct CommandFailure: Error, CustomStringConvertible {

    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// One `--name value` option or `--name` flag.
public struct Option {

    public let name: String
    public let valueName: String?
    public let defaultValue: String?
    public let help: String
    /// Environment variable consulted when the option is not given on the command line.
    public let environment: String?

    /// An option that takes a value, such as `--port 8080`.
    public static func value(_ name: String, _ valueName: String = "VALUE",
                             default defaultValue: String? = nil, env: String? = nil,
                             help: String) -> Option {
        Option(name: name, valueName: valueName, defaultValue: defaultValue, help: help,
               environment: env)
    }

    /// A flag that is either present or not, such as `--dedupe`.
    public static func flag(_ name: String, env: String? = nil, help: String) -> Option {
        Option(name: name, valueName: nil, defaultValue: nil, help: help, environment: env)
    }

    var isFlag: Bool { valueName == nil }
}

/// A positional argument.
public struct Argument {

    public let name: String
    public let help: String
    public let isRepeated: Bool
    public let isOptional: Bool

    public init(_ name: String, help: String, repeated: Bool = false, optional: Bool = false) {
        self.name = name
        self.help = help
        self.isRepeated = repeated
        self.isOptional = optional
    }
}

/// What a command accepts, for parsing and for `--help`.
public struct CommandSpec {

    /// The command as typed, subcommand included ("voxgan convert"); usage errors point at
    /// `'<name> --help'`.
    public let name: String
    public let abstract: String
    public let discussion: String?
    public let arguments: [Argument]
    public let options: [Option]

    public init(name: String, abstract: String, discussion: String? = nil,
                arguments: [Argument] = [], options: [Option] = []) {
        self.name = name
        self.abstract = abstract
        self.discussion = discussion
        self.arguments = arguments
        self.options = options
    }

    /// The last word of `name`: what a `CommandGroup` dispatches on ("convert").
    public var subcommand: String {
        name.split(separator: " ").last.map(String.init) ?? name
    }

    /// The text `--help` prints.
    public var helpText: String {
        var usage = "USAGE: \(name)"
        for argument in arguments {
            let word = "<\(argument.name)>" + (argument.isRepeated ? " ..." : "")
            usage += argument.isOptional ? " [\(word)]" : " \(word)"
        }
        if !options.isEmpty { usage += " [options]" }
        var lines = ["OVERVIEW: \(abstract)", "", usage]
        if let discussion { lines += ["", discussion] }
        if !arguments.isEmpty {
            lines += ["", "ARGUMENTS:"]
            for argument in arguments {
                lines.append(Self.row("<\(argument.name)>", argument.help))
            }
        }
        lines += ["", "OPTIONS:"]
        for option in options {
            var left = "--\(option.name)"
            if let valueName = option.valueName { left += " <\(valueName)>" }
            var help = option.help
            if let value = option.defaultValue { help += " (default: \(value))" }
            if let variable = option.environment { help += " [env: \(variable)]" }
            lines.append(Self.row(left, help))
        }
        lines.append(Self.row("-h, --help", "Show this help."))
        return lines.joined(separator: "\n")
    }

    private static func row(_ left: String, _ help: String) -> String {
        let padded = "  " + left
        if padded.count < 28 {
            return padded + String(repeating: " ", count: 28 - padded.count) + help
        }
        return padded + "\n" + String(repeating: " ", count: 28) + help
    }

    /// Parses `arguments` (without the program name). Throws `UsageError` for anything
    /// unknown or missing; returns nil after printing help when `--help` was asked for.
    public func parse(_ commandLine: [String],
                      environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> ParsedCommand?
    {
        if commandLine.contains("--help") || commandLine.contains("-h") {
            print(helpText)
            return nil
        }
        var values: [String: String] = [:]
        var flags: Set<String> = []
        var positionals: [String] = []
        var index = 0
        var onlyPositionals = false
        while index < commandLine.count {
            let word = commandLine[index]
            index += 1
            if onlyPositionals || !word.hasPrefix("--") || word == "-" {
                positionals.append(word)
                continue
            }
            if word == "--" {
                onlyPositionals = true
                continue
            }
            var name = String(word.dropFirst(2))
            var inlineValue: String? = nil
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let option = options.first(where: { $0.name == name }) else {
                throw UsageError("unknown option '--\(name)' (see '\(self.name) --help')")
            }
            if option.isFlag {
                if inlineValue != nil { throw UsageError("'--\(name)' takes no value") }
                flags.insert(name)
                continue
            }
            if let inlineValue {
                values[name] = inlineValue
            } else {
                guard index < commandLine.count else {
                    throw UsageError("'--\(name)' needs a value <\(option.valueName!)> "
                                     + "(see '\(self.name) --help')")
                }
                values[name] = commandLine[index]
                index += 1
            }
        }
        var defaulted = Set<String>()
        for option in options {
            if let variable = option.environment, let value = environment[variable] {
                if option.isFlag {
                    if !flags.contains(option.name), ["1", "true", "yes"].contains(value) {
                        flags.insert(option.name)
                    }
                } else if values[option.name] == nil {
                    values[option.name] = value
                }
            }
            if !option.isFlag, values[option.name] == nil, let value = option.defaultValue {
                values[option.name] = value
                defaulted.insert(option.name)
            }
        }
        let required = arguments.filter { !$0.isOptional }.count
        guard positionals.count >= required else {
            let missing = arguments.filter { !$0.isOptional }[positionals.count]
            throw UsageError("missing argument <\(missing.name)> (see '\(name) --help')")
        }
        if !arguments.contains(where: { $0.isRepeated }), positionals.count > arguments.count {
            throw UsageError("unexpected argument '\(positionals[arguments.count])' "
                             + "(see '\(name) --help')")
        }
        return ParsedCommand(command: name, values: values, flags: flags,
                             positionals: positionals, defaulted: defaulted)
    }
}

/// The result of parsing: typed accessors that throw `UsageError` naming the option.
public struct ParsedCommand {

    public let command: String
    public let values: [String: String]
    public let flags: Set<String>
    public let positionals: [String]
    /// Options whose value is the default, not given on the command line or in the environment.
    public var defaulted: Set<String> = []

    public func flag(_ name: String) -> Bool { flags.contains(name) }

    /// Whether the user set this option (command line or environment), as opposed to its default.
    public func isGiven(_ name: String) -> Bool {
        flags.contains(name) || (values[name] != nil && !defaulted.contains(name))
    }

    public func string(_ name: String) -> String? { values[name] }

    public func string(_ name: String, default value: String) -> String { values[name] ?? value }

    public func int(_ name: String, in range: ClosedRange<Int>? = nil) throws -> Int? {
        guard let text = values[name] else { return nil }
        guard let value = Int(text) else {
            throw UsageError("--\(name) expects a whole number, got '\(text)'")
        }
        if let range, !range.contains(value) {
            throw UsageError("--\(name) must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
        }
        return value
    }

    public func double(_ name: String, in range: ClosedRange<Double>? = nil) throws -> Double? {
        guard let text = values[name] else { return nil }
        guard let value = Double(text), value.isFinite else {
            throw UsageError("--\(name) expects a number, got '\(text)'")
        }
        if let range, !range.contains(value) {
            throw UsageError("--\(name) must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
        }
        return value
    }

    /// A value that must be one of `choices`.
    public func choice(_ name: String, _ choices: [String]) throws -> String? {
        guard let text = values[name] else { return nil }
        guard choices.contains(text) else {
            throw UsageError("--\(name) must be one of \(choices.joined(separator: ", ")), got '\(text)'")
        }
        return text
    }

    /// A comma-separated list of whole numbers, such as `--channels 256,128,64`.
    public func intList(_ name: String) throws -> [Int]? {
        guard let text = values[name] else { return nil }
        let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil && $0! > 0 }) else {
            throw UsageError("--\(name) expects positive whole numbers separated by commas, got '\(text)'")
        }
        return parts.map { $0! }
    }
}

/// Writes one line to standard error.
public func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// A Foundation file error as one line: the file and the system's reason, not the
/// NSCocoaErrorDomain dump.
private func fileErrorLine(_ error: CocoaError) -> String {
    let path = (error.userInfo[NSFilePathErrorKey] as? String)
        ?? error.url?.path ?? "a file"
    if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError,
       underlying.domain == NSPOSIXErrorDomain {
        return "\(path): \(String(cString: strerror(Int32(underlying.code))).lowercased())"
    }
    return "\(path): cannot be read or written (Foundation error \(error.code.rawValue))"
}

/// Runs a command body and turns errors into one-line messages and exit codes:
/// `UsageError` → 2, any other error → 1. Never lets an error reach a stack trace.
public func runCommand(_ program: String, _ body: () throws -> Void) -> Never {
    do {
        try body()
        exit(0)
    } catch let error as UsageError {
        printError("\(program): error: \(error.message)")
        exit(2)
    } catch let error as CocoaError {
        printError("\(program): error: \(fileErrorLine(error))")
        exit(1)
    } catch {
        printError("\(program): error: \(error)")
        exit(1)
    }
}

/// Dispatches `arguments[0]` to one of `subcommands`, with a help listing for the group.
public struct CommandGroup {

    public let name: String
    public let abstract: String
    public let subcommands: [(name: String, abstract: String, run: ([String]) throws -> Void)]

    public init(name: String, abstract: String,
                subcommands: [(name: String, abstract: String, run: ([String]) throws -> Void)]) {
        self.name = name
        self.abstract = abstract
        self.subcommands = subcommands
    }

    public var helpText: String {
        var lines = ["OVERVIEW: \(abstract)", "", "USAGE: \(name) <subcommand> [options]", "",
                     "SUBCOMMANDS:"]
        for command in subcommands {
            let padded = "  " + command.name
            lines.append(padded + String(repeating: " ", count: max(1, 16 - padded.count))
                         + command.abstract)
        }
        lines += ["", "See '\(name) <subcommand> --help' for the options of each."]
        return lines.joined(separator: "\n")
    }

    public func run(_ arguments: [String]) throws {
        guard let first = arguments.first, first != "--help", first != "-h", first != "help"
        else {
            if arguments.isEmpty { throw UsageError("missing subcommand (see '\(name) --help')") }
            print(helpText)
            return
        }
        guard let command = subcommands.first(where: { $0.name == first }) else {
            throw UsageError("unknown subcommand '\(first)' (see '\(name) --help')")
        }
        try command.run(Array(arguments.dropFirst()))
    }
}
