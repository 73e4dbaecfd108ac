fn main() -> std::process::ExitCode {
    aimux::main()
}
