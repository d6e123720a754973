// Terminal and process plumbing for the trainer: the progress bar, the log file, signals,
// and loading the data from a packed file or a folder.
import CommandLineKit
import Dispatch
import Foundation
import GAN
import Voxels

/// A one-line progress bar with ETA on a terminal; silent when stderr is not a terminal
/// (logs then carry one plain line per interval).
final class ProgressBar {

    private let enabled = isatty(STDERR_FILENO) == 1
    private var lastDraw = Date.distantPast
    private var visible = false

    func update(done: Int, total: Int, secondsPerIteration: Double) {
        guard enabled, Date().timeIntervalSince(lastDraw) > 0.25 || done == total else { return }
        lastDraw = Date()
        let fraction = Double(done) / Double(max(total, 1))
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        let eta = Self.duration(Double(total - done) * secondsPerIteration)
        let line = String(format: "\r[%@] %5.1f%%  it %d/%d  ETA %@ ", bar, fraction * 100, done, total, eta)
        FileHandle.standardError.write(Data(line.utf8))
        visible = true
    }

    func clear() {
        guard enabled, visible else { return }
        FileHandle.standardError.write(Data(("\r" + String(repeating: " ", count: 78) + "\r").utf8))
        visible = false
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.isFinite ? seconds : 0)
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, s % 3600 / 60)
                         : String(format: "%dm%02ds", s / 60, s % 60)
    }
}

/// train.log, appended to, one line per event.
final class LogFile {

    private let handle: FileHandle

    init(path: String) throws {
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw CommandFailure("\(path): cannot open the log for writing")
        }
        handle.seekToEndOfFile()
        self.handle = handle
    }

    func write(_ line: String) { handle.write(Data((line + "\n").utf8)) }

    static func timestamp() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: Date())
    }
}

/// Raises the stop flag on SIGINT and SIGTERM (the loop then checkpoints and exits 0).
final class SignalWatcher {

    private var sources: [DispatchSourceSignal] = []

    init(stop: StopFlag, onSignal: @escaping () -> Void) {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if !stop.isRaised { onSignal() }
                stop.raise()
            }
            source.resume()
            sources.append(source)
        }
    }
}

/// Training data from a packed .h5 file, or from a folder of .binvox files packed on the fly
/// (resampled to the model's resolution, MANIFEST duplicates and identical grids dropped).
enum TrainingDataLoader {

    static func load(_ path: String, resolution: Int) throws -> TrainingData {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CommandFailure("\(path): no such file or folder")
        }
        guard isDirectory.boolValue else { return try TrainingData.load(packed: path) }
        let packer = DatasetPacker(resolution: resolution, downsample: .any, center: false,
                                   dedupe: true)
        let result = try packer.pack(inputs: [path])
        printError("voxgan-train: packed \(path) on the fly: \(result.summary)")
        guard !result.grids.isEmpty else { throw CommandFailure("\(path): no readable .binvox files") }
        let dataset = result.dataset(source: (path as NSString).lastPathComponent)
        let voxels = dataset.withVoxels { Array($0) }
        return TrainingData(resolution: resolution, count: dataset.count, voxels: voxels,
                            source: (path as NSString).lastPathComponent)
    }
}

/// This process's peak resident memory in megabytes (getrusage; Linux reports kilobytes).
func peakResidentMegabytes() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}
