import Foundation
import XCTest
import Voxels

/// `OutputPath.write` keeps symbolic links and special files: the link's target is replaced,
/// a FIFO receives the bytes and stays a FIFO.
final class OutputPathTests: XCTestCase {

    func testWritingThroughALinkKeepsTheLink() throws {
        let folder = NSTemporaryDirectory() + "voxgan-outputpath-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = FileManager.default.createFile(atPath: folder + "/target", contents: Data("old".utf8))
        XCTAssertEqual(symlink("target", folder + "/link"), 0)

        try OutputPath.write(to: folder + "/link") { temporary in
            try Data("new".utf8).write(to: URL(fileURLWithPath: temporary))
        }

        let kind = try FileManager.default.attributesOfItem(atPath: folder + "/link")[.type]
        XCTAssertEqual(kind as? FileAttributeType, .typeSymbolicLink)
        XCTAssertEqual(try String(contentsOfFile: folder + "/target", encoding: .utf8), "new")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder).sorted(),
                       ["link", "target"])
    }

    func testWritingIntoAFIFOKeepsTheFIFO() throws {
        let folder = NSTemporaryDirectory() + "voxgan-outputpath-fifo-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let fifo = folder + "/pipe"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let received = Data(count: 0)
        nonisolated(unsafe) var read = received
        let reader = Thread {
            if let handle = FileHandle(forReadingAtPath: fifo) { read = handle.readDataToEndOfFile() }
        }
        reader.start()

        try OutputPath.write(to: fifo) { temporary in
            try Data("through the pipe".utf8).write(to: URL(fileURLWithPath: temporary))
        }
        while !reader.isFinished { usleep(1000) }

        XCTAssertEqual(String(decoding: read, as: UTF8.self), "through the pipe")
        XCTAssertTrue(OutputPath.isSpecialFile(fifo))
    }
}
