// `sqlx::migrate!` embeds migrations/ at compile time; cargo cannot see that.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
