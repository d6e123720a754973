// A bounded least-recently-used cache of finished responses, keyed by the normalised request
// (seed or z hash, format, options that change the bytes). Bounded by total body bytes and by
// entry count; an entry larger than a quarter of the byte budget is never kept, so one huge
// batch cannot flush every small chair.
import Foundation

/// Thread-safe LRU of values with a byte cost.
public final class ResultCache<Value> {

    private final class Node {
        let key: String
        var value: Value
        var cost: Int
        var newer: Node?
        weak var older: Node?

        init(key: String, value: Value, cost: Int) {
            self.key = key
            self.value = value
            self.cost = cost
        }
    }

    /// Byte budget over all entries.
    public let capacityBytes: Int
    /// Entry budget.
    public let capacityEntries: Int

    private let lock = NSLock()
    private var nodes: [String: Node] = [:]
    /// Least recently used end (evicted first) and most recently used end.
    private var oldest: Node?
    private var newest: Node?
    private var totalCost = 0

    public init(capacityBytes: Int, capacityEntries: Int = 100_000) {
        self.capacityBytes = max(0, capacityBytes)
        self.capacityEntries = max(0, capacityEntries)
    }

    public var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return nodes.count
    }

    public var costInBytes: Int {
        lock.lock()
        defer { lock.unlock() }
        return totalCost
    }

    /// The value for `key`, marking it most recently used.
    public func value(for key: String) -> Value? {
        lock.lock()
        defer { lock.unlock() }
        guard let node = nodes[key] else { return nil }
        moveToNewest(node)
        return node.value
    }

    /// Stores `value` with `cost` bytes, evicting least recently used entries as needed.
    public func insert(_ value: Value, for key: String, cost: Int) {
        guard cost <= capacityBytes / 4, capacityEntries > 0 else { return }
        lock.lock()
        defer { lock.unlock() }
        if let node = nodes[key] {
            totalCost += cost - node.cost
            node.value = value
            node.cost = cost
            moveToNewest(node)
        } else {
            let node = Node(key: key, value: value, cost: cost)
            nodes[key] = node
            totalCost += cost
            append(node)
        }
        while totalCost > capacityBytes || nodes.count > capacityEntries, let victim = oldest {
            unlink(victim)
            nodes[victim.key] = nil
            totalCost -= victim.cost
        }
    }

    public func removeAll() {
        lock.lock()
        defer { lock.unlock() }
        // Unlink the chain front to back so releasing it does not recurse deeply.
        var node = oldest
        while let current = node {
            node = current.newer
            current.newer = nil
        }
        nodes.removeAll()
        oldest = nil
        newest = nil
        totalCost = 0
    }

    deinit { removeAll() }

    // MARK: List operations (lock held)

    private func append(_ node: Node) {
        node.older = newest
        node.newer = nil
        newest?.newer = node
        newest = node
        if oldest == nil { oldest = node }
    }

    private func unlink(_ node: Node) {
        let older = node.older
        let newer = node.newer
        older?.newer = newer
        newer?.older = older
        if oldest === node { oldest = newer }
        if newest === node { newest = older }
        node.older = nil
        node.newer = nil
    }

    private func moveToNewest(_ node: Node) {
        guard newest !== node else { return }
        unlink(node)
        append(node)
    }
}
