//! Attribute macros for brigade: `#[brigade::main]` and `#[brigade::test]`.
//!
//! Both turn an `async fn` into a plain `fn` that builds a brigade event loop
//! and runs the function's body on it to completion, as `asyncio.run(main())`
//! does in Python. Use them through the `brigade` crate, which re-exports
//! them:
//!
//! ```
//! #[brigade::main]
//! async fn main() {
//!     brigade::time::sleep(std::time::Duration::from_millis(1)).await;
//! }
//! ```
//!
//! Options, comma separated inside the parentheses:
//! - `virtual`: run on the virtual clock (time jumps to the next timer
//!   whenever every task is waiting; see `brigade::time`);
//! - `seed = N`: the seed that orders simultaneous events reproducibly.
//!
//! The macros are written on raw token trees rather than `syn`: they only
//! remove one keyword and wrap one block, and this keeps builds fast.

use proc_macro::{Delimiter, Group, Span, TokenStream, TokenTree};

/// Runs an `async fn main` on a brigade event loop; see the crate docs.
///
/// When `main` returns, the program waits for the non-daemon brigade threads
/// that are still running, as a Python program does, and abandons daemon
/// threads.
///
/// # Panics
///
/// The generated `main` panics where `brigade::run` does: if the body
/// panics, or if the runtime cannot be built.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// #[brigade::main(virtual, seed = 7)]
/// async fn main() {
///     let start = brigade::time::Instant::now();
///     let task = brigade::spawn(async { 6 * 7 });
///     brigade::sleep(Duration::from_secs(60)).await; // the virtual clock jumps
///     assert_eq!(task.await.unwrap(), 42);
///     assert_eq!(start.elapsed(), Duration::from_secs(60));
/// }
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args, item, "main", "run_main")
}

/// Runs an `async fn` test on a fresh brigade event loop; see the crate docs.
///
/// `#[brigade::test(virtual)]` runs the test on the virtual clock, so a test
/// that sleeps for hours finishes at once and deterministically.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// #[brigade::test(virtual)]
/// async fn a_day_passes_at_once() {
///     let start = brigade::time::Instant::now();
///     brigade::sleep(Duration::from_secs(24 * 3600)).await;
///     assert_eq!(start.elapsed(), Duration::from_secs(24 * 3600));
/// }
/// # fn main() {}
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut out: TokenStream = "#[::core::prelude::v1::test]".parse().unwrap();
    out.extend(expand(args, item, "test", "run_test"));
    out
}

/// Rewrites `async fn f() -> R { body }` into
/// `fn f() -> R { ::brigade::__private::ENTRY(CONFIG, async move { body }) }`.
fn expand(args: TokenStream, item: TokenStream, which: &str, entry: &str) -> TokenStream {
    let config = match parse_config(args) {
        Ok(config) => config,
        Err((message, span)) => return compile_error(&message, span),
    };
    let mut tokens: Vec<TokenTree> = item.into_iter().collect();
    let Some(async_at) = tokens
        .iter()
        .position(|t| matches!(t, TokenTree::Ident(i) if i.to_string() == "async"))
    else {
        let message = format!("#[brigade::{which}] goes on an `async fn`");
        return compile_error(&message, Span::call_site());
    };
    tokens.remove(async_at);
    let body = match tokens.pop() {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => g,
        _ => {
            let message = format!("#[brigade::{which}] needs a function with a body");
            return compile_error(&message, Span::call_site());
        }
    };
    let mut call_args: TokenStream = format!("{config}, async move").parse().unwrap();
    call_args.extend([TokenTree::Group(body.clone())]);
    let mut call: TokenStream = format!("::brigade::__private::{entry}").parse().unwrap();
    call.extend([TokenTree::Group(Group::new(
        Delimiter::Parenthesis,
        call_args,
    ))]);
    let mut new_body = Group::new(Delimiter::Brace, call);
    new_body.set_span(body.span());
    tokens.push(TokenTree::Group(new_body));
    tokens.into_iter().collect()
}

/// Turns `virtual, seed = 7` into a `Config` builder expression.
fn parse_config(args: TokenStream) -> Result<String, (String, Span)> {
    let mut config = String::from("::brigade::__private::Config::new()");
    let mut iter = args.into_iter().peekable();
    while let Some(token) = iter.next() {
        let TokenTree::Ident(ident) = &token else {
            return Err((format!("unexpected `{token}`"), token.span()));
        };
        match ident.to_string().as_str() {
            "virtual" => config.push_str(".virtual_clock(true)"),
            "seed" => {
                match iter.next() {
                    Some(TokenTree::Punct(p)) if p.as_char() == '=' => {}
                    _ => return Err(("expected `seed = <integer>`".into(), ident.span())),
                }
                match iter.next() {
                    Some(TokenTree::Literal(lit)) => {
                        config.push_str(&format!(".seed({lit})"));
                    }
                    _ => return Err(("expected `seed = <integer>`".into(), ident.span())),
                }
            }
            other => {
                let message =
                    format!("unknown option `{other}`; expected `virtual` or `seed = <integer>`");
                return Err((message, ident.span()));
            }
        }
        match iter.next() {
            None => break,
            Some(TokenTree::Punct(p)) if p.as_char() == ',' => {}
            Some(other) => return Err((format!("expected `,`, found `{other}`"), other.span())),
        }
    }
    Ok(config)
}

fn compile_error(message: &str, span: Span) -> TokenStream {
    let mut out: TokenStream = "::core::compile_error!".parse().unwrap();
    let mut literal = proc_macro::Literal::string(message);
    literal.set_span(span);
    let mut group = Group::new(Delimiter::Parenthesis, TokenTree::Literal(literal).into());
    group.set_span(span);
    out.extend([
        TokenTree::Group(group),
        TokenTree::Punct(proc_macro::Punct::new(';', proc_macro::Spacing::Alone)),
    ]);
    out
}
