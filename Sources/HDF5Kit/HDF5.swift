// A small typed layer over libhdf5's C API: files, groups, datasets and attributes, with every
// failure turned into a thrown `HDF5Error` that names the file and the object.
//
// Debian's libhdf5 is built without its thread-safety option, so every call into the library
// goes through one process-wide recursive lock.
import CHDF5
import CShim
import Foundation

/// A failed HDF5 operation: which file, which object, what went wrong.
public struct HDF5Error: Error, CustomStringConvertible {

    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

let hdf5Lock = NSRecursiveLock()

@inline(__always)
func locked<T>(_ body: () throws -> T) rethrows -> T {
    hdf5Lock.lock()
    defer { hdf5Lock.unlock() }
    return try body()
}

private let silenceOnce: Void = { voxgan_h5_silence_errors() }()

/// Element types that datasets are read into and written from.
public enum HDF5ElementType {
    case float32, float64, uint8, int32, int64, uint64

    var nativeType: hid_t {
        switch self {
        case .float32: return voxgan_h5t_native_float()
        case .float64: return voxgan_h5t_native_double()
        case .uint8: return voxgan_h5t_native_uint8()
        case .int32: return voxgan_h5t_native_int32()
        case .int64: return voxgan_h5t_native_int64()
        case .uint64: return voxgan_h5t_native_uint64()
        }
    }
}

/// Swift scalar types that map one-to-one onto an HDF5 native type.
public protocol HDF5Scalar {
    static var hdf5Type: HDF5ElementType { get }
    init()
}

extension Float: HDF5Scalar { public static var hdf5Type: HDF5ElementType { .float32 } }
extension Double: HDF5Scalar { public static var hdf5Type: HDF5ElementType { .float64 } }
extension UInt8: HDF5Scalar { public static var hdf5Type: HDF5ElementType { .uint8 } }
extension Int32: HDF5Scalar { public static var hdf5Type: HDF5ElementType { .int32 } }
extension Int64: HDF5Scalar { public static var hdf5Type: HDF5ElementType { .int64 } }
extension UInt64: HDF5Scalar { public static var hdf5Type: HDF5ElementType { .uint64 } }

// MARK: - Objects with attributes

/// Anything that carries attributes: the file's root group, groups, datasets.
public class HDF5Object {

    let id: hid_t

    /// Where this object lives, for error messages: "file.h5:/generator/layer0".
    public let location: String

    init(id: hid_t, location: String) {
        self.id = id
        self.location = location
    }

    func check(_ status: herr_t, _ what: @autoclosure () -> String) throws {
        if status < 0 { throw HDF5Error("\(location): \(what())") }
    }

    func checkID(_ id: hid_t, _ what: @autoclosure () -> String) throws -> hid_t {
        if id < 0 { throw HDF5Error("\(location): \(what())") }
        return id
    }

    public func hasAttribute(_ name: String) -> Bool {
        locked { H5Aexists(id, name) > 0 }
    }

    public func attributeNames() throws -> [String] {
        locked {
            var names: [String] = []
            for index in 0... {
                let length = H5Aget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC,
                                                hsize_t(index), nil, 0, 0)
                guard length >= 0 else { break }
                var buffer = [CChar](repeating: 0, count: Int(length) + 1)
                H5Aget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, hsize_t(index),
                                   &buffer, buffer.count, 0)
                names.append(String(cString: buffer))
            }
            return names
        }
    }

    private func replaceAttribute(_ name: String, type: hid_t, space: hid_t,
                                  write: (hid_t) -> herr_t) throws {
        if H5Aexists(id, name) > 0 { H5Adelete(id, name) }
        let attribute = try checkID(H5Acreate2(id, name, type, space, 0, 0),
                                    "cannot create attribute '\(name)'")
        defer { H5Aclose(attribute) }
        try check(write(attribute), "cannot write attribute '\(name)'")
    }

    /// Writes a variable-length UTF-8 string attribute (what h5py reads back as `str`).
    public func setAttribute(_ name: String, _ value: String) throws {
        try locked {
            let type = H5Tcopy(voxgan_h5t_c_s1())
            defer { H5Tclose(type) }
            H5Tset_size(type, Int(bitPattern: UInt(bitPattern: -1)))  // H5T_VARIABLE
            H5Tset_cset(type, H5T_CSET_UTF8)
            let space = H5Screate(H5S_SCALAR)
            defer { H5Sclose(space) }
            try value.withCString { pointer in
                var cString: UnsafePointer<CChar>? = pointer
                try replaceAttribute(name, type: type, space: space) { attribute in
                    H5Awrite(attribute, type, &cString)
                }
            }
        }
    }

    public func setAttribute(_ name: String, _ value: Double) throws {
        try setAttribute(name, values: [value])
    }

    public func setAttribute(_ name: String, _ value: Int) throws {
        try setAttribute(name, values: [Int64(value)])
    }

    /// Writes a scalar attribute when `values` has one element, else a 1-D array attribute.
    public func setAttribute<T: HDF5Scalar>(_ name: String, values: [T]) throws {
        try locked {
            let space: hid_t
            if values.count == 1 {
                space = H5Screate(H5S_SCALAR)
            } else {
                var dims = [hsize_t(values.count)]
                space = H5Screate_simple(1, &dims, nil)
            }
            defer { H5Sclose(space) }
            let type = T.hdf5Type.nativeType
            try values.withUnsafeBufferPointer { buffer in
                try replaceAttribute(name, type: type, space: space) { attribute in
                    H5Awrite(attribute, type, buffer.baseAddress)
                }
            }
        }
    }

    /// Reads a string attribute, fixed- or variable-length; nil when it does not exist.
    public func stringAttribute(_ name: String) throws -> String? {
        try locked {
            guard H5Aexists(id, name) > 0 else { return nil }
            let attribute = try checkID(H5Aopen(id, name, 0), "cannot open attribute '\(name)'")
            defer { H5Aclose(attribute) }
            let fileType = H5Aget_type(attribute)
            defer { H5Tclose(fileType) }
            guard H5Tget_class(fileType) == H5T_STRING else {
                throw HDF5Error("\(location): attribute '\(name)' is not a string")
            }
            if H5Tis_variable_str(fileType) > 0 {
                let memType = H5Tcopy(voxgan_h5t_c_s1())
                defer { H5Tclose(memType) }
                H5Tset_size(memType, Int(bitPattern: UInt(bitPattern: -1)))
                H5Tset_cset(memType, H5Tget_cset(fileType))
                var pointer: UnsafeMutablePointer<CChar>? = nil
                try check(H5Aread(attribute, memType, &pointer), "cannot read attribute '\(name)'")
                defer { if let pointer { H5free_memory(pointer) } }
                return pointer.map { String(cString: $0) } ?? ""
            }
            let size = H5Tget_size(fileType)
            var buffer = [UInt8](repeating: 0, count: size + 1)
            try check(H5Aread(attribute, fileType, &buffer), "cannot read attribute '\(name)'")
            let end = buffer.firstIndex(of: 0) ?? size
            return String(decoding: buffer[..<end], as: UTF8.self)
        }
    }

    /// Reads a numeric attribute (scalar or array), converted to `T`; nil when absent.
    public func numericAttribute<T: HDF5Scalar>(_ name: String, as: T.Type = T.self) throws -> [T]? {
        try locked {
            guard H5Aexists(id, name) > 0 else { return nil }
            let attribute = try checkID(H5Aopen(id, name, 0), "cannot open attribute '\(name)'")
            defer { H5Aclose(attribute) }
            let space = H5Aget_space(attribute)
            defer { H5Sclose(space) }
            let count = Int(H5Sget_simple_extent_npoints(space))
            var values = [T](repeating: T(), count: count)
            try values.withUnsafeMutableBufferPointer { buffer in
                try check(H5Aread(attribute, T.hdf5Type.nativeType, buffer.baseAddress),
                          "cannot read attribute '\(name)' as a number")
            }
            return values
        }
    }

    public func doubleAttribute(_ name: String) throws -> Double? {
        try numericAttribute(name, as: Double.self)?.first
    }

    public func intAttribute(_ name: String) throws -> Int? {
        try numericAttribute(name, as: Int64.self)?.first.map { Int($0) }
    }
}

// MARK: - Files and groups

/// A group: a folder of datasets and groups inside an HDF5 file.
public class HDF5Group: HDF5Object {

    /// Keeps the file open while any of its groups or datasets is alive.
    let owner: AnyObject?

    init(id: hid_t, location: String, owner: AnyObject?) {
        self.owner = owner
        super.init(id: id, location: location)
    }

    deinit { locked { _ = H5Gclose(id) } }

    private func childLocation(_ name: String) -> String {
        location.hasSuffix("/") ? location + name : location + "/" + name
    }

    /// Whether a link called `name` (a path like "a/b" is allowed) exists below this group.
    public func contains(_ name: String) -> Bool {
        locked {
            var prefix = ""
            for part in name.split(separator: "/") {
                prefix += prefix.isEmpty ? String(part) : "/" + part
                if H5Lexists(id, prefix, 0) <= 0 { return false }
            }
            return !prefix.isEmpty
        }
    }

    /// Names of the links directly below this group, in name order.
    public func childNames() throws -> [String] {
        try locked {
            var info = H5G_info_t()
            try check(H5Gget_info(id, &info), "cannot list group")
            var names: [String] = []
            for index in 0..<Int(info.nlinks) {
                let length = H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC,
                                                hsize_t(index), nil, 0, 0)
                guard length >= 0 else { continue }
                var buffer = [CChar](repeating: 0, count: Int(length) + 1)
                H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, hsize_t(index),
                                   &buffer, buffer.count, 0)
                names.append(String(cString: buffer))
            }
            return names
        }
    }

    /// Creates a group (and any missing intermediate groups of a path like "generator/layer0").
    public func createGroup(_ name: String) throws -> HDF5Group {
        try locked {
            if contains(name) { return try openGroup(name) }
            let properties = H5Pcreate(voxgan_h5p_link_create())
            defer { H5Pclose(properties) }
            H5Pset_create_intermediate_group(properties, 1)
            let group = try checkID(H5Gcreate2(id, name, properties, 0, 0),
                                    "cannot create group '\(name)'")
            return HDF5Group(id: group, location: childLocation(name), owner: owner ?? self)
        }
    }

    public func openGroup(_ name: String) throws -> HDF5Group {
        try locked {
            guard contains(name) else { throw HDF5Error("\(location): no group '\(name)'") }
            let group = try checkID(H5Gopen2(id, name, 0), "'\(name)' is not a group")
            return HDF5Group(id: group, location: childLocation(name), owner: owner ?? self)
        }
    }

    public func openDataset(_ name: String) throws -> HDF5Dataset {
        try locked {
            guard contains(name) else { throw HDF5Error("\(location): no dataset '\(name)'") }
            let dataset = try checkID(H5Dopen2(id, name, 0), "'\(name)' is not a dataset")
            return HDF5Dataset(id: dataset, location: childLocation(name), owner: owner ?? self)
        }
    }

    /// Creates an empty dataset of `shape`, optionally chunked and deflate-compressed, to be
    /// filled with `HDF5Dataset.write(rows:...)`.
    public func createDataset(_ name: String, type: HDF5ElementType, shape: [Int],
                              chunk: [Int]? = nil, deflate: Int? = nil) throws -> HDF5Dataset {
        try locked {
            if contains(name) { H5Ldelete(id, name, 0) }
            var dims = shape.map { hsize_t($0) }
            let space = shape.isEmpty ? H5Screate(H5S_SCALAR)
                                      : H5Screate_simple(Int32(shape.count), &dims, nil)
            defer { H5Sclose(space) }
            let properties = H5Pcreate(voxgan_h5p_dataset_create())
            defer { H5Pclose(properties) }
            if let chunk, !shape.isEmpty, shape.allSatisfy({ $0 > 0 }) {
                var chunkDims = chunk.map { hsize_t($0) }
                try check(H5Pset_chunk(properties, Int32(chunk.count), &chunkDims),
                          "bad chunk shape \(chunk) for '\(name)'")
                if let deflate { H5Pset_deflate(properties, UInt32(deflate)) }
            }
            let linkProperties = H5Pcreate(voxgan_h5p_link_create())
            defer { H5Pclose(linkProperties) }
            H5Pset_create_intermediate_group(linkProperties, 1)
            let dataset = try checkID(
                H5Dcreate2(id, name, type.nativeType, space, linkProperties, properties, 0),
                "cannot create dataset '\(name)'")
            return HDF5Dataset(id: dataset, location: childLocation(name), owner: owner ?? self)
        }
    }

    /// Writes a whole dataset in one call, replacing any dataset of the same name.
    @discardableResult
    public func write<T: HDF5Scalar>(_ name: String, _ values: [T], shape: [Int]? = nil,
                                     chunk: [Int]? = nil, deflate: Int? = nil) throws
        -> HDF5Dataset
    {
        let shape = shape ?? [values.count]
        guard shape.reduce(1, *) == values.count else {
            throw HDF5Error("\(location): '\(name)' has \(values.count) values for shape \(shape)")
        }
        return try locked {
            let dataset = try createDataset(name, type: T.hdf5Type, shape: shape, chunk: chunk,
                                            deflate: deflate)
            if !values.isEmpty {
                try values.withUnsafeBufferPointer { buffer in
                    try check(H5Dwrite(dataset.id, T.hdf5Type.nativeType, 0, 0, 0,
                                       buffer.baseAddress), "cannot write dataset '\(name)'")
                }
            }
            return dataset
        }
    }

    /// Writes floats rounded to IEEE half precision (round to nearest even) in a float16
    /// dataset: half the bytes, read back exactly by `read(as: Float.self)`, and by h5py as
    /// numpy float16. Returns the rounded values, which are what any reader will get.
    @discardableResult
    public func writeHalfPrecision(_ name: String, _ values: [Float], shape: [Int]? = nil) throws
        -> [Float]
    {
        let shape = shape ?? [values.count]
        guard shape.reduce(1, *) == values.count else {
            throw HDF5Error("\(location): '\(name)' has \(values.count) values for shape \(shape)")
        }
        let halves = values.map { Float16($0) }
        try locked {
            if contains(name) { H5Ldelete(id, name, 0) }
            let type = voxgan_h5t_create_ieee_f16le()
            guard type >= 0 else { throw HDF5Error("\(location): cannot define a float16 type") }
            defer { H5Tclose(type) }
            var dims = shape.map { hsize_t($0) }
            let space = H5Screate_simple(Int32(shape.count), &dims, nil)
            defer { H5Sclose(space) }
            let dataset = try checkID(H5Dcreate2(id, name, type, space, 0, 0, 0),
                                      "cannot create dataset '\(name)'")
            defer { H5Dclose(dataset) }
            let bits = halves.map { $0.bitPattern.littleEndian }
            try bits.withUnsafeBufferPointer { buffer in
                try check(H5Dwrite(dataset, type, 0, 0, 0, buffer.baseAddress),
                          "cannot write dataset '\(name)'")
            }
        }
        return halves.map { Float($0) }
    }

    /// Writes a 1-D dataset of variable-length UTF-8 strings (h5py reads them as bytes/str).
    public func writeStrings(_ name: String, _ strings: [String]) throws {
        try locked {
            if contains(name) { H5Ldelete(id, name, 0) }
            let type = H5Tcopy(voxgan_h5t_c_s1())
            defer { H5Tclose(type) }
            H5Tset_size(type, Int(bitPattern: UInt(bitPattern: -1)))
            H5Tset_cset(type, H5T_CSET_UTF8)
            var dims = [hsize_t(strings.count)]
            let space = H5Screate_simple(1, &dims, nil)
            defer { H5Sclose(space) }
            let dataset = try checkID(H5Dcreate2(id, name, type, space, 0, 0, 0),
                                      "cannot create dataset '\(name)'")
            defer { H5Dclose(dataset) }
            guard !strings.isEmpty else { return }
            let cStrings = strings.map { strdup($0) }
            defer { cStrings.forEach { free($0) } }
            var pointers = cStrings.map { UnsafePointer<CChar>($0) }
            try check(H5Dwrite(dataset, type, 0, 0, 0, &pointers), "cannot write '\(name)'")
        }
    }

    /// Reads a whole dataset converted to `T` (HDF5 converts between numeric types).
    public func read<T: HDF5Scalar>(_ name: String, as: T.Type = T.self) throws -> [T] {
        try openDataset(name).read(as: T.self)
    }
}

/// An open HDF5 file. It stays open while it or any group or dataset taken from it is alive.
public final class HDF5File: HDF5Group {

    public let path: String

    private init(fileID: hid_t, path: String) throws {
        self.path = path
        let root = H5Gopen2(fileID, "/", 0)
        H5Fclose(fileID)  // the root group keeps the file open
        guard root >= 0 else { throw HDF5Error("\(path): cannot open the root group") }
        super.init(id: root, location: path + ":/", owner: nil)
    }

    /// Creates (or truncates) a file on disk.
    public static func create(_ path: String) throws -> HDF5File {
        try locked {
            _ = silenceOnce
            let file = H5Fcreate(path, voxgan_h5f_acc_trunc(), 0, 0)
            guard file >= 0 else { throw HDF5Error("\(path): cannot create HDF5 file") }
            return try HDF5File(fileID: file, path: path)
        }
    }

    /// Opens an existing file, read-only unless `writable`.
    public static func open(_ path: String, writable: Bool = false) throws -> HDF5File {
        try locked {
            _ = silenceOnce
            guard FileManager.default.fileExists(atPath: path) else {
                throw HDF5Error("\(path): no such file")
            }
            guard H5Fis_hdf5(path) > 0 else {
                throw HDF5Error("\(path): not an HDF5 file (or truncated)")
            }
            let mode = writable ? voxgan_h5f_acc_rdwr() : voxgan_h5f_acc_rdonly()
            let file = H5Fopen(path, mode, 0)
            guard file >= 0 else { throw HDF5Error("\(path): cannot open HDF5 file") }
            return try HDF5File(fileID: file, path: path)
        }
    }

    /// Creates a file that lives only in memory; `image()` returns its bytes.
    public static func createInMemory(name: String = "memory.h5") throws -> HDF5File {
        try locked {
            _ = silenceOnce
            let access = H5Pcreate(voxgan_h5p_file_access())
            defer { H5Pclose(access) }
            H5Pset_fapl_core(access, 1 << 20, false)
            let file = H5Fcreate(name, voxgan_h5f_acc_trunc(), 0, access)
            guard file >= 0 else { throw HDF5Error("\(name): cannot create in-memory file") }
            return try HDF5File(fileID: file, path: name)
        }
    }

    /// The file's bytes as they would be on disk (after flushing).
    public func image() throws -> [UInt8] {
        try locked {
            let file = H5Iget_file_id(id)
            defer { H5Fclose(file) }
            try check(H5Fflush(file, H5F_SCOPE_GLOBAL), "cannot flush")
            let size = H5Fget_file_image(file, nil, 0)
            guard size >= 0 else { throw HDF5Error("\(path): cannot get the file image") }
            var bytes = [UInt8](repeating: 0, count: size)
            _ = H5Fget_file_image(file, &bytes, size)
            return bytes
        }
    }

    /// Flushes buffered writes to the operating system.
    public func flush() throws {
        try locked { try check(H5Fflush(id, H5F_SCOPE_GLOBAL), "cannot flush") }
    }
}

// MARK: - Datasets

/// A dataset: an n-dimensional array of one element type.
public final class HDF5Dataset: HDF5Object {

    let owner: AnyObject?

    init(id: hid_t, location: String, owner: AnyObject?) {
        self.owner = owner
        super.init(id: id, location: location)
    }

    deinit { locked { _ = H5Dclose(id) } }

    /// The extents, slowest first; empty for a scalar dataset.
    public var shape: [Int] {
        locked {
            let space = H5Dget_space(id)
            defer { H5Sclose(space) }
            let rank = Int(H5Sget_simple_extent_ndims(space))
            guard rank > 0 else { return [] }
            var dims = [hsize_t](repeating: 0, count: rank)
            H5Sget_simple_extent_dims(space, &dims, nil)
            return dims.map { Int($0) }
        }
    }

    public var elementCount: Int { shape.reduce(1, *) }

    public var isString: Bool {
        locked {
            let type = H5Dget_type(id)
            defer { H5Tclose(type) }
            return H5Tget_class(type) == H5T_STRING
        }
    }

    /// Reads the whole dataset converted to `T`.
    public func read<T: HDF5Scalar>(as: T.Type = T.self) throws -> [T] {
        try locked {
            if isString { throw HDF5Error("\(location): holds strings, not numbers") }
            let count = elementCount
            guard count > 0 else { return [] }

            // HDF5 fills every element, so the array is not zeroed first: across the module
            // boundary `[T](repeating:count:)` runs unspecialised, one element at a time, which
            // took longer than decompressing a packed dataset.
            return try [T](unsafeUninitializedCapacity: count) { buffer, initialised in
                try check(H5Dread(id, T.hdf5Type.nativeType, 0, 0, 0, buffer.baseAddress),
                          "cannot read as \(T.self)")
                initialised = count
            }
        }
    }

    /// Reads rows `start..<start+count` along the first axis into `buffer`, which must hold
    /// `count` times the size of one row.
    public func read<T: HDF5Scalar>(rows start: Int, count: Int,
                                    into buffer: UnsafeMutableBufferPointer<T>) throws {
        try selectRows(start: start, count: count, bufferCount: buffer.count) { memory, file in
            try check(H5Dread(id, T.hdf5Type.nativeType, memory, file, 0, buffer.baseAddress),
                      "cannot read rows \(start)..<\(start + count)")
        }
    }

    /// Writes rows `start..<start+count` along the first axis from `values`.
    public func write<T: HDF5Scalar>(rows start: Int, count: Int,
                                     from values: UnsafeBufferPointer<T>) throws {
        try selectRows(start: start, count: count, bufferCount: values.count) { memory, file in
            try check(H5Dwrite(id, T.hdf5Type.nativeType, memory, file, 0, values.baseAddress),
                      "cannot write rows \(start)..<\(start + count)")
        }
    }

    private func selectRows(start: Int, count: Int, bufferCount: Int,
                            _ body: (hid_t, hid_t) throws -> Void) throws {
        try locked {
            let extents = shape
            guard let rows = extents.first, start >= 0, count >= 0, start + count <= rows else {
                throw HDF5Error("\(location): rows \(start)..<\(start + count) out of range")
            }
            let rowSize = extents.dropFirst().reduce(1, *)
            guard bufferCount >= rowSize * count else {
                throw HDF5Error("\(location): buffer of \(bufferCount) for \(count) rows")
            }
            let fileSpace = H5Dget_space(id)
            defer { H5Sclose(fileSpace) }
            var offset = [hsize_t](repeating: 0, count: extents.count)
            offset[0] = hsize_t(start)
            var size = extents.map { hsize_t($0) }
            size[0] = hsize_t(count)
            try check(H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, &offset, nil, &size, nil),
                      "cannot select rows")
            let memorySpace = H5Screate_simple(Int32(size.count), &size, nil)
            defer { H5Sclose(memorySpace) }
            try body(memorySpace, fileSpace)
        }
    }

    /// Reads a 1-D dataset of strings (fixed- or variable-length).
    public func readStrings() throws -> [String] {
        try locked {
            let fileType = H5Dget_type(id)
            defer { H5Tclose(fileType) }
            guard H5Tget_class(fileType) == H5T_STRING else {
                throw HDF5Error("\(location): does not hold strings")
            }
            let count = elementCount
            if H5Tis_variable_str(fileType) > 0 {
                let memType = H5Tcopy(voxgan_h5t_c_s1())
                defer { H5Tclose(memType) }
                H5Tset_size(memType, Int(bitPattern: UInt(bitPattern: -1)))
                H5Tset_cset(memType, H5Tget_cset(fileType))
                var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
                try check(H5Dread(id, memType, 0, 0, 0, &pointers), "cannot read strings")
                defer { pointers.forEach { if let p = $0 { H5free_memory(p) } } }
                return pointers.map { $0.map { String(cString: $0) } ?? "" }
            }
            let size = H5Tget_size(fileType)
            var buffer = [UInt8](repeating: 0, count: size * count)
            try check(H5Dread(id, fileType, 0, 0, 0, &buffer), "cannot read strings")
            return (0..<count).map { index in
                let slice = buffer[(index * size)..<((index + 1) * size)]
                let end = slice.firstIndex(of: 0) ?? slice.endIndex
                return String(decoding: slice[slice.startIndex..<end], as: UTF8.self)
            }
        }
    }
}
