import Glibc

/// Names the calling thread where the kernel shows it (`ps -T`, `top -H`,
/// `/proc/PID/task/*/comm`). Foundation's `Thread.name` stays inside the
/// process on Linux, so without this every agent thread shows the name of
/// the thread that made it. The kernel keeps the first 15 bytes. Best effort:
/// without /proc the thread keeps its inherited name, which changes nothing else.
func nameThisThread(_ name: String) {
    let descriptor = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return }
    defer { close(descriptor) }
    _ = name.withCString { write(descriptor, $0, strlen($0)) }
}
