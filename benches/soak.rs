//! The long chaos soak: seeded schedules of faults, kill -9 and SIGINT against the real binary
//! and the real mock, every one judged by the invariants of `tests/it/soak/engine` (shared by
//! `#[path]` with the CI soak). Run it with `cargo bench --bench soak -- --seeds 0..10000`;
//! see docs/reliability.md and `engine/cli.rs` for the flags.

#[path = "../tests/it/soak/engine/mod.rs"]
mod engine;

fn main() {
    // `cargo bench` passes `--bench` to every bench target.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    std::process::exit(engine::cli::main(&args));
}
