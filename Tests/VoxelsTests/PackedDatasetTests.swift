// Packing binvox files into one HDF5 file and loading it back.
import Foundation
import HDF5Kit
import Voxels
import XCTest

final class PackedDatasetTests: XCTestCase {

    func copy(_ source: String, to path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: source, toPath: path)
    }

    func testPackAndLoadRoundTrip() throws {
        let folder = try TestData.temporaryFolder(self)
        let samples = try TestData.samples()
        var calls: [(Int, Int)] = []
        let result = try DatasetPacker(resolution: 32, downsample: .any)
            .pack(inputs: samples) { calls.append(($0, $1)) }
        XCTAssertEqual(result.grids.count, 8)
        XCTAssertEqual(result.skipped, [])
        XCTAssertEqual(calls.last?.0, 8)
        XCTAssertEqual(calls.last?.1, 8)
        XCTAssertEqual(result.summary, "packed 8, skipped 0, duplicates 0, excluded 0")

        let path = folder + "/chairs32.h5"
        try result.write(to: path, source: "sample/")
        let dataset = try PackedDataset.load(path: path)
        XCTAssertEqual(dataset.resolution, 32)
        XCTAssertEqual(dataset.count, 8)
        XCTAssertEqual(dataset.names, samples.map { ($0 as NSString).lastPathComponent })
        XCTAssertEqual(dataset.attributes["format"], "voxgan-voxels")
        XCTAssertEqual(dataset.attributes["format_version"], "1")
        XCTAssertEqual(dataset.attributes["resolution"], "32")
        XCTAssertEqual(dataset.attributes["axes"], "x,y,z (+y up)")
        XCTAssertEqual(dataset.attributes["source"], "sample/")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".partial"))

        for (i, sample) in samples.enumerated() {
            var expected = try Binvox.read(path: sample).resampled(toResolution: 32, mode: .any)
            expected.translate = .zero
            expected.scale = 1
            XCTAssertEqual(dataset.grid(at: i), expected, sample)
        }

        // The layout other code relies on: [n][x][y][z], z fastest, values 0/1.
        let chair = try Binvox.read(path: samples[0])
        dataset.withVoxels { voxels in
            XCTAssertEqual(voxels.count, 8 * 32 * 32 * 32)
            XCTAssertTrue(voxels.allSatisfy { $0 <= 1 })
            for (x, y, z) in [(4, 0, 5), (10, 20, 26), (27, 31, 5)] {
                XCTAssertEqual(voxels[((0 * 32 + x) * 32 + y) * 32 + z] == 1, chair[x, y, z])
            }
        }
        XCTAssertEqual(dataset.meanOccupancy,
                       Double(result.grids.map(\.occupiedCount).reduce(0, +)) / (8 * 32768))

        // The file as h5py sees it: shape, element type, chunking.
        let file = try HDF5File.open(path)
        XCTAssertEqual(try file.openDataset("voxels").shape, [8, 32, 32, 32])
        XCTAssertEqual(try file.read("voxels", as: UInt8.self).count, 8 * 32768)
        XCTAssertEqual(try file.openDataset("names").readStrings().count, 8)
    }

    func testDedupeDropsBitIdenticalGridsAndManifestDuplicates() throws {
        let folder = try TestData.temporaryFolder(self) + "/data"
        let a = try TestData.sample("mn10_chair_train_0002")
        let b = try TestData.sample("mn10_chair_train_0003")
        try copy(a, to: folder + "/set/a.binvox")
        try copy(b, to: folder + "/set/b.binvox")
        try copy(a, to: folder + "/set/c.binvox")  // same grid as a.binvox
        try copy(b, to: folder + "/set/d.binvox")  // manifest says: repeats b.binvox
        // The 64³ chair at 32³ differs from every 32³ one, so it is kept.
        try copy(try TestData.sample("shapenet_64__18e5"), to: folder + "/set/e.binvox")
        try "file\tduplicate_of\nset/a.binvox\t\nset/d.binvox\tset/b.binvox\n"
            .write(toFile: folder + "/MANIFEST.tsv", atomically: true, encoding: .utf8)

        let without = try DatasetPacker(resolution: 32).pack(inputs: [folder + "/set"])
        XCTAssertEqual(without.grids.count, 5)
        XCTAssertEqual(without.names, ["set/a.binvox", "set/b.binvox", "set/c.binvox",
                                       "set/d.binvox", "set/e.binvox"])

        let result = try DatasetPacker(resolution: 32, dedupe: true)
            .pack(inputs: [folder + "/set"])
        XCTAssertEqual(result.names, ["set/a.binvox", "set/b.binvox", "set/e.binvox"])
        XCTAssertEqual(result.duplicates.map(\.name), ["set/d.binvox", "set/c.binvox"])
        XCTAssertEqual(result.duplicates.last?.duplicateOf, "set/a.binvox")
        XCTAssertTrue(result.duplicates[0].duplicateOf.contains("MANIFEST"))
        XCTAssertEqual(result.summary, "packed 3, skipped 0, duplicates 2, excluded 0")
    }

    func testUnreadableAndUnresamplableFilesAreSkippedWithReasons() throws {
        let folder = try TestData.temporaryFolder(self)
        try copy(try TestData.sample("mn10_chair_train_0002"), to: folder + "/good.binvox")
        try Data("#binvox 1\ndim 2 2 2\ndata\n".utf8 + [0, 7])
            .write(to: URL(fileURLWithPath: folder + "/short.binvox"))
        try Binvox.write(VoxelGrid(resolution: 30), to: folder + "/thirty.binvox")

        let result = try DatasetPacker(resolution: 32)
            .pack(inputs: [folder, folder + "/missing.binvox"])
        let prefix = (folder as NSString).lastPathComponent
        XCTAssertEqual(result.names, [prefix + "/good.binvox"])
        XCTAssertEqual(result.skipped.map(\.name),
                       [folder + "/missing.binvox", prefix + "/short.binvox",
                        prefix + "/thirty.binvox"])
        XCTAssertTrue(result.skipped[0].reason.contains("no such file"))
        XCTAssertTrue(result.skipped[1].reason.contains("8 voxels"), result.skipped[1].reason)
        XCTAssertTrue(result.skipped[2].reason.contains("30×30×30"), result.skipped[2].reason)

        let nothing = try DatasetPacker(resolution: 32).pack(inputs: [folder + "/short.binvox"])
        XCTAssertTrue(nothing.grids.isEmpty)
        XCTAssertEqual(nothing.skipped.count, 1)
    }

    func testExcludeListMatchesNamesAndPathEndings() throws {
        let samples = try TestData.samples()
        let excluded: Set<String> = ["modelnet10_32__mn10_chair_train_0002.binvox",
                                     "sample/shapenet_128__341c9b0583d31770492d9da2668ec34c",
                                     "not-there.binvox"]
        let result = try DatasetPacker(resolution: 32, excluded: excluded).pack(inputs: samples)
        XCTAssertEqual(result.grids.count, 6)
        XCTAssertEqual(result.excluded.count, 2)
        XCTAssertFalse(result.names.contains { $0.contains("0002") || $0.contains("341c9b") })
    }

    func testCentredPackingAndUpsampling() throws {
        let chair = try TestData.sample("shapenet_128")
        let result = try DatasetPacker(resolution: 64, downsample: .majority, center: true)
            .pack(inputs: [chair, try TestData.sample("mn10_chair_train_0002")])
        XCTAssertEqual(result.grids.count, 2)
        XCTAssertTrue(result.grids.allSatisfy { $0.dimensions == SIMD3(64, 64, 64) })
        let box = try XCTUnwrap(result.grids[0].boundingBox)
        let extent = box.max &- box.min &+ 1
        XCTAssertEqual(box.min, (SIMD3(64, 64, 64) &- extent) / 2)
        XCTAssertEqual(result.grids[1].occupiedCount, 8 * 1_814)  // 32³ upsampled by 2
    }

    func testInMemoryDatasetMatchesTheFile() throws {
        let result = try DatasetPacker(resolution: 32).pack(inputs: try TestData.samples())
        let memory = result.dataset(source: "memory")
        XCTAssertEqual(memory.count, 8)
        for i in 0..<8 { XCTAssertEqual(memory.grid(at: i), result.grids[i]) }
    }

    func testLoadRejectsFilesThatAreNotPackedDatasets() throws {
        let folder = try TestData.temporaryFolder(self)
        XCTAssertThrowsError(try PackedDataset.load(path: folder + "/none.h5")) {
            XCTAssertTrue("\($0)".contains("none.h5"), "\($0)")
        }

        do {  // each file is closed at the end of its block, before it is loaded
            let wrongShape = try HDF5File.create(folder + "/shape.h5")
            try wrongShape.write("voxels", [UInt8](repeating: 0, count: 24), shape: [2, 3, 4])
            let badValues = try HDF5File.create(folder + "/values.h5")
            try badValues.write("voxels", [UInt8](repeating: 255, count: 8), shape: [1, 2, 2, 2])
            let other = try HDF5File.create(folder + "/other.h5")
            try other.setAttribute("format", "something-else")
        }
        XCTAssertThrowsError(try PackedDataset.load(path: folder + "/shape.h5")) {
            XCTAssertTrue("\($0)".contains("N×R×R×R"), "\($0)")
        }

        XCTAssertThrowsError(try PackedDataset.load(path: folder + "/values.h5")) {
            XCTAssertTrue("\($0)".contains("found 255"), "\($0)")
        }

        XCTAssertThrowsError(try PackedDataset.load(path: folder + "/other.h5")) {
            XCTAssertTrue("\($0)".contains("something-else"), "\($0)")
        }
    }
}

final class VoxelFormatBenchmarkTests: XCTestCase {

    /// The benchmarks run end to end (their timings are not checked here).
    func testBenchmarksRun() throws {
        let chair = VoxelFormatBenchmarks.syntheticChair()
        XCTAssertEqual(chair.dimensions, SIMD3(64, 64, 64))
        XCTAssertEqual(chair.largestComponent(), chair)
        let timings = try VoxelFormatBenchmarks.binvox(repetitions: 2)
        XCTAssertGreaterThan(timings.readFile, 0)
        XCTAssertGreaterThan(timings.encode, 0)

        let folder = try TestData.temporaryFolder(self)
        let path = folder + "/set.h5"
        try DatasetPacker(resolution: 32).pack(inputs: try TestData.samples())
            .write(to: path, source: "benchmark test")
        XCTAssertGreaterThan(try VoxelFormatBenchmarks.loadPacked(path: path, repetitions: 1), 0)
    }
}
