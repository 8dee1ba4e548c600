//! The `stopbook` binary: everything happens in the library; this maps it to an exit code.

fn main() -> std::process::ExitCode {
    stopbook::cli::main()
}
