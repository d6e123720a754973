// The server's small parts on their own: JSON, SHA-256, tar, npy headers, the LRU cache,
// latent interpolation, and the synthetic model's guarantees.
import Foundation
import Serving
import XCTest

final class ComponentTests: XCTestCase {

    func testSHA256KnownVectors() {
        XCTAssertEqual(SHA256.hex(""),
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex("abc"),
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var incremental = SHA256()
        for _ in 0..<1000 { incremental.update(Array(repeating: UInt8(ascii: "a"), count: 1000)) }
        XCTAssertEqual(SHA256.hexString(incremental.finalize()),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testJSONRoundTripAndErrors() throws {
        let text = #"{"a":[1,-2.5e3,true,null],"b":"é\n\"","c":{},"seed":18446744073709551615}"#
        let value = try JSONValue.parse(Array(text.utf8))
        XCTAssertEqual(value.serialized(), text)
        XCTAssertEqual(value["seed"], .number("18446744073709551615"))
        XCTAssertEqual(try JSONValue.parse(Array(#""\ud83e\ude91""#.utf8)), .string("🪑"))
        for bad in ["{", "[1,]", "01", "{\"a\" 1}", "\"\u{1}\"", "tru", "1 2", "\"\\x\""] {
            XCTAssertThrowsError(try JSONValue.parse(Array(bad.utf8)), bad)
        }
        XCTAssertEqual(JSONValue.float(0.5).serialized(), "0.5")
        XCTAssertEqual(JSONValue.double(3).serialized(), "3")
    }

    func testResultCacheEvictsLeastRecentlyUsed() {
        let cache = ResultCache<Int>(capacityBytes: 400)
        cache.insert(1, for: "a", cost: 100)
        cache.insert(2, for: "b", cost: 100)
        cache.insert(3, for: "c", cost: 100)
        XCTAssertEqual(cache.value(for: "a"), 1)
        cache.insert(4, for: "d", cost: 100)
        cache.insert(5, for: "e", cost: 100)
        XCTAssertNil(cache.value(for: "b"))
        XCTAssertEqual(cache.value(for: "a"), 1)
        XCTAssertEqual(cache.count, 4)
        cache.insert(6, for: "huge", cost: 101)
        XCTAssertNil(cache.value(for: "huge"))
        XCTAssertLessThanOrEqual(cache.costInBytes, 400)
    }

    func testTarLayout() {
        var tar = TarWriter()
        tar.addFile(name: "chair-1.binvox", contents: Array(repeating: 7, count: 600))
        tar.addFile(name: "empty", contents: [])
        let bytes = tar.finished()
        XCTAssertEqual(bytes.count, 512 + 1024 + 512 + 1024)
        XCTAssertEqual(String(decoding: bytes[257..<262], as: UTF8.self), "ustar")
        // Checksum: the header's bytes with the checksum field read as spaces.
        var header = Array(bytes[0..<512])
        let stored = Int(String(decoding: header[148..<154], as: UTF8.self), radix: 8)
        header.replaceSubrange(148..<156, with: Array(repeating: 32, count: 8))
        XCTAssertEqual(stored, header.reduce(0) { $0 + Int($1) })
    }

    func testSyntheticModelIsDeterministicAndBatchIndependent() throws {
        let model = SyntheticChairModel(resolution: 12)
        XCTAssertEqual(model.latent(seed: 3), model.latent(seed: 3))
        XCTAssertNotEqual(model.latent(seed: 3), model.latent(seed: 4))
        let z = model.latent(seed: 3)
        XCTAssertEqual(z.count, 200)
        let mean = z.reduce(0, +) / 200
        XCTAssertLessThan(abs(mean), 0.3)
        let alone = try model.generate(latents: [z])[0]
        let batched = try model.generate(latents: [model.latent(seed: 9), z])[1]
        XCTAssertEqual(alone, batched)
        XCTAssertEqual(alone.count, 12 * 12 * 12)
        XCTAssertTrue(alone.allSatisfy { $0 >= 0 && $0 <= 1 })
        XCTAssertThrowsError(try model.generate(latents: [[1, 2, 3]]))
    }
}
