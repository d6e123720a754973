// history.csv: one row per logging interval, the source of the loss-curve plot.
import Foundation

enum TrainingHistory {

    static let header = "iteration,epoch,d_loss,g_loss,d_accuracy,d_update_rate,samples_per_second,occupancy,data_occupancy,empty_fraction,solid_fraction,pairwise_iou,batch_occupancy,calibrated_threshold"

    static func append(_ report: IntervalReport, dataOccupancy: Double, to directory: String) throws {
        let path = directory + "/history.csv"
        if !FileManager.default.fileExists(atPath: path) {
            try (header + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        }
        // occupancy is at p > 0.5; empty, solid and pairwise IoU at the calibrated threshold.
        let d = report.calibratedDiagnostics
        func field(_ value: Double?) -> String { value.map { String(format: "%.6g", $0) } ?? "" }
        let row = [String(report.iteration), String(report.epoch),
                   field(report.discriminatorLoss), field(report.generatorLoss),
                   field(report.discriminatorAccuracy), field(report.discriminatorUpdateRate),
                   field(report.samplesPerSecond), field(report.diagnostics?.meanOccupancy), field(dataOccupancy),
                   field(d?.emptyFraction), field(d?.solidFraction), field(d?.meanPairwiseIoU),
                   field(report.batchOccupancy), field(report.calibratedThreshold.map { Double($0) })]
            .joined(separator: ",")
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((row + "\n").utf8))
        if report.diagnostics != nil { TrainingPictures.writeLossPlot(historyPath: path, to: directory + "/losses.png") }
    }

    /// Drops rows after `iteration`, so a resumed run's history continues where its
    /// checkpoint left off.
    static func truncate(in directory: String, after iteration: Int) {
        let path = directory + "/history.csv"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return }
        let kept = text.split(separator: "\n").filter { line in
            guard let first = line.split(separator: ",").first, let value = Int(first) else { return true }
            return value <= iteration
        }
        try? (kept.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }
}

