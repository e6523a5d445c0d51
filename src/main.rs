fn main() {
    println!("importdesk");
}
