// The one place the engine calls OpenBLAS.
import COpenBLAS

/// Row-major single-precision matrix products on OpenBLAS.
public enum BLAS {

    nonisolated(unsafe) private static var currentThreads: Int32 = -1

    /// The kernel table OpenBLAS chose when it loaded, e.g. "Cooperlake" or "Haswell" (an
    /// OPENBLAS_CORETYPE in the environment overrides its detection; on an AVX-512 processor
    /// an AVX2 table such as Haswell runs sgemm at about half the rate).
    public static var coreName: String {
        openblas_get_corename().map { String(cString: $0) } ?? "unknown"
    }

    /// Sets OpenBLAS's thread count, skipping the call when it is unchanged.
    public static func setThreads(_ threads: Int) {
        let wanted = Int32(max(1, threads))
        if wanted != currentThreads {
            openblas_set_num_threads(wanted)
            currentThreads = wanted
        }
    }

    /// C (m×n) = alpha · op(A) · op(B) + beta · C, all row-major. `lda`, `ldb`, `ldc` are the
    /// row strides of A, B, C as stored (before transposition).
    @inline(__always)
    public static func gemm(transposeA: Bool = false, transposeB: Bool = false,
                            m: Int, n: Int, k: Int, alpha: Float = 1,
                            a: UnsafePointer<Float>, lda: Int,
                            b: UnsafePointer<Float>, ldb: Int,
                            beta: Float = 0,
                            c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans,
                    transposeB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb),
                    beta, c, blasint(ldc))
    }

    /// y (n) = op(A) · x with A (m×n if `transposeA`, else n×m) row-major with row stride `lda`.
    @inline(__always)
    public static func gemv(transposeA: Bool, m: Int, n: Int, a: UnsafePointer<Float>, lda: Int,
                            x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        cblas_sgemv(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans,
                    blasint(transposeA ? m : n), blasint(transposeA ? n : m), 1, a, blasint(lda),
                    x, 1, 0, y, 1)
    }

    /// C (m × n) += Aᵀ · B for row-major A (k × m) and B (k × n), the compute threads taking
    /// column ranges of C, so none writes what another does: the weight gradient of a layer
    /// that is one matrix product over the batch (k = samples).
    public static func addTransposedProduct(m: Int, n: Int, k: Int, a: UnsafePointer<Float>,
                                            b: UnsafePointer<Float>,
                                            c: UnsafeMutablePointer<Float>) {
        ComputeThreads.distribute(n) { _, part in
            gemm(transposeA: true, m: m, n: part.count, k: k, a: a, lda: m,
                 b: b + part.lowerBound, ldb: n, beta: 1, c: c + part.lowerBound, ldc: n)
        }
    }

    /// Runs single-sample work with all compute threads given to OpenBLAS.
    public static func withAllThreads<T>(_ body: () -> T) -> T {
        setThreads(ComputeThreads.count)
        return body()
    }
}
