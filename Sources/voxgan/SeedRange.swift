// Commands that make `count` chairs from seed S use S, S+1, ..., S+count-1.
import CommandLineKit

/// Throws a usage error when the last seed would pass 2⁶⁴−1 (and silently wrap to 0), as the
/// server's 400 does for the same request.
func checkSeedRange(first seed: UInt64, count: Int) throws {
    guard seed <= UInt64.max - UInt64(count - 1) else {
        throw UsageError("--seed \(seed) with --count \(count): seed + count - 1 is above "
                         + "\(UInt64.max)")
    }
}
