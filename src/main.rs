// A fast allocator: the proxy and bridge allocate per request and per streamed chunk.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    aimux::main()
}
