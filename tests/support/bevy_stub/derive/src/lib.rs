//! `#[derive(Component)]` for the stub: implements the marker trait for the struct it is put on.
use proc_macro::{TokenStream, TokenTree};

#[proc_macro_derive(Component)]
pub fn derive_component(input: TokenStream) -> TokenStream {
    let mut tokens = input.into_iter();
    while let Some(token) = tokens.next() {
        if let TokenTree::Ident(ident) = &token {
            if ident.to_string() == "struct" {
                if let Some(TokenTree::Ident(name)) = tokens.next() {
                    return format!("impl ::bevy::prelude::Component for {name} {{}}").parse().unwrap();
                }
            }
        }
    }
    panic!("#[derive(Component)] expects a struct");
}
