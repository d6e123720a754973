// The weights sample, eval and bench use when --weights is not given.
import CommandLineKit

/// --weights as given (or VOXGAN_WEIGHTS), else Models/chairs32.h5 in the current directory,
/// else in the nearest folder above the executable that has it (the package, for a binary
/// built with `swift build`), else the plain default so the error names it.
func defaultableWeights(_ options: ParsedCommand) -> String {
    let fallback = "Models/chairs32.h5"
    if options.isGiven("weights"), let given = options.string("weights") { return given }
    return PackageFiles.find(fallback) ?? fallback
}
