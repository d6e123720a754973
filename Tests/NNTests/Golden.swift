// Access to ../shared/golden/layers.h5 (PyTorch reference tensors) and its tolerance rule.
import Foundation
import HDF5Kit
import NN
import XCTest

enum Golden {

    /// The repository's parent folder, found by walking up from this file to Package.swift.
    static let sharedFolder: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url.deletingLastPathComponent().appendingPathComponent("shared")
            }
        }
        return URL(fileURLWithPath: "../shared")
    }()

    static func file() throws -> HDF5File {
        let path = sharedFolder.appendingPathComponent("golden/layers.h5").path
        guard FileManager.default.fileExists(atPath: path) else {
            throw HDF5Error("golden reference file missing: \(path) (expected ../shared beside the repo)")
        }
        return try HDF5File.open(path)
    }

    static func tensor(_ group: HDF5Group, _ name: String) throws -> Tensor {
        let dataset = try group.openDataset(name)
        return Tensor(shape: dataset.shape, values: try dataset.read(as: Float.self))
    }

    /// The README's rule: |got − ref| ≤ a·max(1, max|ref|) + rtol·|ref| element-wise, plus the
    /// scale-free check max|got − ref| / max|ref| < `relative`.
    static func assertClose(_ got: [Float], _ reference: [Float], rtol: Float, a: Float,
                            relative: Float, _ what: String,
                            file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, reference.count, "\(what): count", file: file, line: line)
        guard got.count == reference.count else { return }
        let maxRef = reference.map { abs($0) }.max() ?? 0
        let atol = a * max(1, maxRef)
        var worst: Float = 0
        var failures = 0
        for (g, r) in zip(got, reference) {
            let error = abs(g - r)
            if !g.isFinite || error > atol + rtol * abs(r) { failures += 1 }
            worst = max(worst, error)
        }
        XCTAssertEqual(failures, 0, "\(what): \(failures) elements out of tolerance, max error \(worst)",
                       file: file, line: line)
        if maxRef > 0 {
            XCTAssertLessThan(worst / maxRef, relative, "\(what): relative error", file: file, line: line)
        }
    }

    static func assertLayerClose(_ got: Tensor, _ reference: Tensor, _ what: String,
                                 file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.shape, reference.shape, "\(what): shape", file: file, line: line)
        assertClose(got.toArray(), reference.toArray(), rtol: 1e-4, a: 1e-5, relative: 1e-5, what,
                    file: file, line: line)
    }
}
