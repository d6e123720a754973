// Locates the real chair data for the tests: `../shared/data` beside the checkout, found by
// walking up from this file to the folder holding Package.swift.
import Foundation
import XCTest

enum TestData {

    struct MissingData: Error, CustomStringConvertible { let description: String }

    /// The chair data folder; throws (failing the test) with where it was looked for.
    static func root(file: StaticString = #filePath) throws -> String {
        var folder = URL(fileURLWithPath: "\(file)").deletingLastPathComponent()
        while folder.path != "/", !FileManager.default.fileExists(
            atPath: folder.appendingPathComponent("Package.swift").path) {
            folder.deleteLastPathComponent()
        }
        let data = folder.deletingLastPathComponent().appendingPathComponent("shared/data")
            .standardizedFileURL.path
        guard FileManager.default.fileExists(atPath: data + "/MANIFEST.tsv") else {
            throw MissingData(description: "chair data not found at \(data): the Voxels tests "
                              + "need ../shared/data beside the checkout (see README.md)")
        }
        return data
    }

    /// Paths of the files in `sample/`, sorted.
    static func samples() throws -> [String] {
        let folder = try root() + "/sample"
        return try FileManager.default.contentsOfDirectory(atPath: folder)
            .filter { $0.hasSuffix(".binvox") }.sorted().map { folder + "/" + $0 }
    }

    /// The sample file whose name contains `part`.
    static func sample(_ part: String) throws -> String {
        guard let path = try samples().first(where: { $0.contains(part) }) else {
            throw MissingData(description: "no sample file matching '\(part)'")
        }
        return path
    }

    /// A fresh empty temporary folder, removed when the test ends.
    static func temporaryFolder(_ test: XCTestCase) throws -> String {
        let folder = NSTemporaryDirectory() + "voxgan-voxels-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        return folder
    }

    static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }
}
