//! What a thread runs: a function with its arguments, like Python's
//! `Thread(target=func2, args=(5,))`, and the target's name for the
//! thread's default name `Thread-N (func2)`.
//!
//! [`Target`] is implemented for every `FnOnce` of up to six arguments,
//! taking them as a tuple; a closure with no arguments takes `()`.
//!
//! ```
//! use brigade::thread::Target;
//!
//! fn add(a: i32, b: i32) -> i32 {
//!     a + b
//! }
//! assert_eq!(add.call((2, 3)), 5);
//! assert_eq!((|| "no args").call(()), "no args");
//! ```
//!
//! The name comes from [`std::any::type_name`] of the target's type: a
//! function item's type is named after the function, so its last path
//! segment is the function's own name. A closure's type is named
//! `path::to::enclosing_fn::{{closure}}`; brigade shows it as
//! `enclosing_fn::{closure}`. A function pointer (`fn(i32) -> i32`) has
//! lost its name, and shows as `fn`.

/// A function that a thread can run with a tuple of arguments.
///
/// Implemented for every `FnOnce(A, B, ..) -> R + Send + 'static` of up to
/// six arguments, with `Args = (A, B, ..)`.
///
/// # Examples
/// Any function of up to six arguments, with its arguments as a tuple:
/// ```
/// use brigade::thread::{Target, Thread};
///
/// fn volume(l: u32, w: u32, h: u32) -> u32 {
///     l * w * h
/// }
///
/// fn run_later<F, A>(f: F, args: A) -> Thread<F::Output>
/// where
///     F: Target<A>,
///     A: Send + 'static,
///     F::Output: Send + 'static,
/// {
///     Thread::new(f, args)
/// }
///
/// let mut t = run_later(volume, (2, 3, 4));
/// t.start().unwrap();
/// assert_eq!(t.join().unwrap(), 24);
/// ```
pub trait Target<Args>: Send + 'static {
    /// What the function returns.
    type Output;

    /// Calls the function with the arguments spread out.
    fn call(self, args: Args) -> Self::Output;
}

macro_rules! impl_target {
    ($($arg:ident),*) => {
        impl<Func, Ret, $($arg),*> Target<($($arg,)*)> for Func
        where
            Func: FnOnce($($arg),*) -> Ret + Send + 'static,
        {
            type Output = Ret;

            #[allow(non_snake_case)]
            fn call(self, ($($arg,)*): ($($arg,)*)) -> Ret {
                self($($arg),*)
            }
        }
    };
}

impl_target!();
impl_target!(A);
impl_target!(A, B);
impl_target!(A, B, C);
impl_target!(A, B, C, D);
impl_target!(A, B, C, D, E);
impl_target!(A, B, C, D, E, G);

/// The display name of a target of type `F`; see the module docs.
pub(crate) fn target_name<F>() -> String {
    display_name(std::any::type_name::<F>())
}

fn display_name(type_name: &str) -> String {
    if type_name.starts_with("fn(") || type_name.starts_with("unsafe fn(") {
        return "fn".to_string();
    }
    // Most targets have no generics: skip the copy that strips them.
    let stripped;
    let plain = if type_name.contains('<') {
        stripped = strip_generics(type_name);
        &stripped
    } else {
        type_name
    };
    let mut segments = plain.split("::").filter(|s| !s.is_empty());
    let mut last_named = None;
    let mut closure = false;
    for segment in segments.by_ref() {
        if segment.starts_with("{{") {
            closure = true;
        } else {
            last_named = Some(segment);
            closure = false;
        }
    }
    match (last_named, closure) {
        (Some(name), false) => name.to_string(),
        (Some(name), true) => format!("{name}::{{closure}}"),
        (None, _) => "{closure}".to_string(),
    }
}

/// Drops every `<...>` group, which may itself contain `::`.
fn strip_generics(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut depth = 0usize;
    for c in name.chars() {
        match c {
            '<' => depth += 1,
            '>' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn func2(n: u32) -> Vec<u32> {
        (1..=n).map(|i| i * i).collect()
    }

    fn generic<T: Default>() -> T {
        T::default()
    }

    fn name_of<F>(_: &F) -> String {
        target_name::<F>()
    }

    #[test]
    fn a_function_is_named_after_itself() {
        assert_eq!(name_of(&func2), "func2");
    }

    #[test]
    fn generic_parameters_are_dropped() {
        assert_eq!(
            name_of(&generic::<std::collections::HashMap<u8, u8>>),
            "generic"
        );
    }

    #[test]
    fn a_closure_is_named_after_its_enclosing_function() {
        let f = || 1;
        assert_eq!(
            name_of(&f),
            "a_closure_is_named_after_its_enclosing_function::{closure}"
        );
        let nested = || || 2;
        let inner = nested();
        assert_eq!(
            name_of(&inner),
            "a_closure_is_named_after_its_enclosing_function::{closure}"
        );
    }

    #[test]
    fn a_function_pointer_has_no_name() {
        let f: fn(u32) -> Vec<u32> = func2;
        assert_eq!(name_of(&f), "fn");
    }

    #[test]
    fn targets_take_their_arguments_as_a_tuple() {
        assert_eq!(func2.call((3,)), [1, 4, 9]);
        let six = |a: u8, b: u8, c: u8, d: u8, e: u8, f: u8| a + b + c + d + e + f;
        assert_eq!(six.call((1, 2, 3, 4, 5, 6)), 21);
    }
}
