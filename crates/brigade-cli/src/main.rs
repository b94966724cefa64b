//! The `brigade` command.
fn main() {
    eprintln!("brigade: the CLI is not built yet (see issue 7)");
}
