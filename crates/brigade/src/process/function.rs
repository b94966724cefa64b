//! How a parent names a Rust function so that its child can call it.
//!
//! A child is the same executable as its parent, so every function sits at
//! the same distance from every other; only the base address differs
//! (ASLR). The parent sends the distance from an anchor function to a
//! *trampoline*: a generic function, monomorphized for the function type
//! `F` and its argument tuple, that decodes the arguments, calls `F`,
//! and encodes the result. The child adds the distance to its own anchor.
//!
//! This is sound because of three checks, in this order:
//! 1. The parent only names trampolines that live in the main executable
//!    (never in a shared library, which has its own base), and only for a
//!    zero-sized, `Copy` function type, so that the child can summon the
//!    function without any bytes from the parent.
//! 2. The child checks that it runs the very file the parent runs (device,
//!    inode, size and modification time of `/proc/self/exe`) and the same
//!    layout (the distance of a second known function), and that the
//!    address lies inside its executable.
//! 3. The trampoline checks a hash of the type names it was built for
//!    against the hash the parent sent, before it touches the arguments.
//!
//! Functions that capture state (closures with captures) cannot be named this
//! way: [`Process::start`](super::Process::start) refuses them with
//! [`StartError::Captures`](super::StartError::Captures).
//!
//! ```
//! use brigade::process::Callable;
//!
//! fn add(a: i32, b: i32) -> i32 { a + b }
//! // Any fn item (or capture-free closure) of up to six arguments is
//! // callable with a tuple, as in Python's `args=(1, 2)`.
//! assert_eq!(Callable::call(add, (1, 2)), 3);
//! ```

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::frame::FrameError;
use super::transfer;
use crate::sys::process as sys_process;

/// A function a child process can run: a fn item or a closure that
/// captures nothing, called with a tuple of arguments.
///
/// Implemented for every `Fn(A, B, ..) -> R + Copy + Send + Sync + 'static`
/// of up to six arguments, with `Args = (A, B, ..)`.
///
/// # Examples
/// Code generic over what a child can run:
/// ```
/// use brigade::process::{Callable, Process};
/// use serde::{Serialize, de::DeserializeOwned};
///
/// fn in_child<F, A>(f: F, args: A) -> F::Output
/// where
///     F: Callable<A>,
///     A: Serialize + DeserializeOwned,
///     F::Output: Serialize + DeserializeOwned,
/// {
///     let mut p = Process::new(f, args);
///     p.start().unwrap();
///     p.join().unwrap()
/// }
///
/// fn mul(a: i64, b: i64) -> i64 {
///     a * b
/// }
///
/// assert_eq!(in_child(mul, (6, 7)), 42);
/// ```
pub trait Callable<Args>: Copy + Send + Sync + 'static {
    /// What the function returns.
    type Output;
    /// Calls the function with the arguments spread out.
    fn call(self, args: Args) -> Self::Output;
}

macro_rules! callable {
    ($($arg:ident),*) => {
        impl<Func, Ret, $($arg),*> Callable<($($arg,)*)> for Func
        where
            Func: Fn($($arg),*) -> Ret + Copy + Send + Sync + 'static,
        {
            type Output = Ret;
            #[allow(non_snake_case)]
            fn call(self, ($($arg,)*): ($($arg,)*)) -> Ret {
                self($($arg),*)
            }
        }
    };
}

callable!();
callable!(A);
callable!(A, B);
callable!(A, B, C);
callable!(A, B, C, D);
callable!(A, B, C, D, E);
callable!(A, B, C, D, E, G);

/// What a child returns from a trampoline: the encoded result and the
/// descriptors it carries, or why the call could not be made.
pub(crate) type Returned = Result<transfer::Encoded, String>;

/// The erased signature of every trampoline.
type Trampoline = fn(args: &[u8], fds: Vec<std::os::fd::OwnedFd>, type_hash: u64) -> Returned;

/// A function named across processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FnRef {
    offset: i64,
    type_hash: u64,
}

/// Why a function cannot be run in a child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unnameable {
    /// It captures state.
    Captures(&'static str),
    /// Its code is not in the main executable.
    NotInExecutable(&'static str),
}

impl FnRef {
    /// Names `F` called with one `Args` tuple.
    pub(crate) fn single<F, Args>() -> Result<FnRef, Unnameable>
    where
        F: Callable<Args>,
        Args: DeserializeOwned,
        F::Output: Serialize,
    {
        Self::check::<F>(single::<F, Args> as Trampoline, type_hash::<F, Args>(false))
    }

    /// Names `F` called on each tuple of a batch (one task of a pool map).
    pub(crate) fn batch<F, Args>() -> Result<FnRef, Unnameable>
    where
        F: Callable<Args>,
        Args: DeserializeOwned,
        F::Output: Serialize,
    {
        Self::check::<F>(batch::<F, Args> as Trampoline, type_hash::<F, Args>(true))
    }

    fn check<F>(trampoline: Trampoline, type_hash: u64) -> Result<FnRef, Unnameable> {
        let name = std::any::type_name::<F>();
        if size_of::<F>() != 0 {
            return Err(Unnameable::Captures(name));
        }
        if !sys_process::in_executable(trampoline as usize)
            || !sys_process::in_executable(anchor_addr())
        {
            return Err(Unnameable::NotInExecutable(name));
        }
        Ok(FnRef {
            offset: (trampoline as usize as i64).wrapping_sub(anchor_addr() as i64),
            type_hash,
        })
    }

    /// The two numbers that name the function, to keep in shared memory.
    pub(crate) fn to_parts(self) -> (i64, u64) {
        (self.offset, self.type_hash)
    }

    /// The function named by [`to_parts`](Self::to_parts) in a process of
    /// the same build. Calling it re-checks the address and the type hash.
    pub(crate) fn from_parts(offset: i64, type_hash: u64) -> FnRef {
        FnRef { offset, type_hash }
    }

    /// Calls the named trampoline in this process (the child).
    pub(crate) fn call(self, args: &[u8], fds: Vec<std::os::fd::OwnedFd>) -> Returned {
        let target = (anchor_addr() as i64).wrapping_add(self.offset) as usize;
        if !sys_process::in_executable(target) {
            return Err(format!(
                "the function address {target:#x} is outside this executable"
            ));
        }
        // SAFETY: `target` is the address of a trampoline of this very
        // executable: the parent computed the offset from a `Trampoline`
        // (checked to lie in the main executable) to `anchor`, and the
        // child checked before this call (`Hello::check`) that it runs the
        // same file with the same layout, so the same offset from its own
        // `anchor` lands on the same trampoline, which has this signature.
        // The trampoline then checks `type_hash` before doing anything.
        let trampoline: Trampoline = unsafe { std::mem::transmute::<usize, Trampoline>(target) };
        trampoline(args, fds, self.type_hash)
    }
}

/// The fixed point from which functions are measured.
#[inline(never)]
pub(crate) fn anchor() -> u64 {
    std::hint::black_box(0x0062_7269_6761_6465)
}

fn anchor_addr() -> usize {
    anchor as fn() -> u64 as usize
}

/// The distance between two functions of brigade: equal in parent and
/// child if and only if (in practice) they run the same build.
pub(crate) fn layout_fingerprint() -> i64 {
    (single::<fn(u8) -> u8, (u8,)> as Trampoline as usize as i64).wrapping_sub(anchor_addr() as i64)
}

/// FNV-1a over the names of the function, argument and result types.
fn type_hash<F: Callable<Args>, Args>(batch: bool) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for name in [
        if batch { "batch" } else { "single" },
        std::any::type_name::<F>(),
        std::any::type_name::<Args>(),
        std::any::type_name::<F::Output>(),
    ] {
        for b in name.bytes().chain([0]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Makes the value of a zero-sized function type.
fn summon<F: Copy>() -> Option<F> {
    if size_of::<F>() != 0 {
        return None;
    }
    // SAFETY: `F` has size zero, so reading one from a dangling, aligned
    // pointer reads no memory and yields no invalid bytes. It is `Copy`:
    // the parent held a value of it (it named `F` by passing one), and a
    // `Copy` type allows any number of copies, so one more copy here breaks
    // no invariant of the type.
    Some(unsafe { std::ptr::NonNull::<F>::dangling().as_ptr().read() })
}

fn single<F, Args>(args: &[u8], fds: Vec<std::os::fd::OwnedFd>, hash: u64) -> Returned
where
    F: Callable<Args>,
    Args: DeserializeOwned,
    F::Output: Serialize,
{
    if hash != type_hash::<F, Args>(false) {
        return Err("the function's type does not match the parent's".into());
    }
    let f = summon::<F>().ok_or("the function captures state")?;
    let args: Args = transfer::decode(args, fds).map_err(|e| arguments(&e))?;
    let out = f.call(args);
    transfer::encode(&out).map_err(|e| format!("cannot encode the result: {e}"))
}

fn batch<F, Args>(args: &[u8], fds: Vec<std::os::fd::OwnedFd>, hash: u64) -> Returned
where
    F: Callable<Args>,
    Args: DeserializeOwned,
    F::Output: Serialize,
{
    if hash != type_hash::<F, Args>(true) {
        return Err("the function's type does not match the parent's".into());
    }
    let f = summon::<F>().ok_or("the function captures state")?;
    let batch: Vec<Args> = transfer::decode(args, fds).map_err(|e| arguments(&e))?;
    let out: Vec<F::Output> = batch.into_iter().map(|a| f.call(a)).collect();
    transfer::encode(&out).map_err(|e| format!("cannot encode the result: {e}"))
}

fn arguments(e: &FrameError) -> String {
    format!("cannot decode the arguments: {e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(n: i64) -> i64 {
        n * n
    }

    #[test]
    fn only_the_executables_own_code_counts_as_in_it() {
        assert!(sys_process::in_executable(anchor_addr()));
        assert!(sys_process::in_executable(
            square as fn(i64) -> i64 as usize
        ));
        // libc's code, the heap and the stack are elsewhere.
        assert!(!sys_process::in_executable(
            libc::getpid as *const () as usize
        ));
        let boxed = Box::new(7u64);
        assert!(!sys_process::in_executable(&*boxed as *const u64 as usize));
        let local = 7u64;
        assert!(!sys_process::in_executable(&local as *const u64 as usize));
    }

    #[test]
    fn a_named_function_is_called_through_its_trampoline() {
        let f = FnRef::single::<fn(i64) -> i64, (i64,)>();
        // A fn pointer is not zero-sized: refused.
        assert!(matches!(f, Err(Unnameable::Captures(_))));
        fn named<F: Callable<(i64,), Output = i64>>(_: F) -> FnRef {
            FnRef::single::<F, (i64,)>().unwrap()
        }
        let f = named(square);
        let args = transfer::encode(&(7i64,)).unwrap();
        let out = f.call(&args.bytes, Vec::new()).unwrap();
        let back: i64 = transfer::decode(&out.bytes, Vec::new()).unwrap();
        assert_eq!(back, 49);
    }

    #[test]
    fn a_wrong_type_hash_is_refused() {
        fn named<F: Callable<(i64,), Output = i64>>(_: F) -> FnRef {
            FnRef::single::<F, (i64,)>().unwrap()
        }
        let mut f = named(square);
        f.type_hash ^= 1;
        let args = transfer::encode(&(7i64,)).unwrap();
        assert!(f.call(&args.bytes, Vec::new()).is_err());
    }

    #[test]
    fn capturing_closures_are_refused() {
        let k = 3i64;
        fn named<F: Callable<(i64,), Output = i64>>(_: F) -> Result<FnRef, Unnameable> {
            FnRef::single::<F, (i64,)>()
        }
        assert!(matches!(
            named(move |n| n * k),
            Err(Unnameable::Captures(_))
        ));
        assert!(named(|n| n + 1).is_ok());
    }
}
