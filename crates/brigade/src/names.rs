//! Every name a Python or tokio programmer reaches for, and brigade's.
//!
//! brigade is Python's `asyncio`, `threading`, `multiprocessing` and
//! `concurrent.futures`, done in Rust, with tokio's synchronization types
//! beside them. The tables below map each of those names to brigade's. Where
//! brigade differs, the last column says how and why; an empty cell means
//! the behaviour is the same as the counterpart's documented behaviour.
//!
//! Three differences run through every table, so they are said once here:
//!
//! - **Cancellation is dropping.** Python cancels a task by raising
//!   `CancelledError` at its `await`; Rust cancels a future by dropping it,
//!   which runs its destructors. So a task cannot catch its own
//!   cancellation and carry on, and "uncancel" has no meaning. Work that
//!   must outlive its awaiter is spawned (or [`shield`](crate::shield)ed).
//! - **Errors are values.** Where Python raises (`TimeoutError`,
//!   `ValueError`, `BrokenBarrierError`, ...), brigade returns a typed
//!   `Result` whose error hands back whatever could not be delivered.
//! - **A loop per thread.** As in asyncio, a loop runs its tasks on its own
//!   thread, so tasks need not be `Send`; tokio's `LocalSet` and
//!   `spawn_local` have no counterpart because every brigade loop is one.
//!
//! # Examples
//!
//! A Python line and its brigade counterpart, read off the tables:
//!
//! ```
//! use std::time::Duration;
//!
//! let rt = brigade::Runtime::builder().virtual_clock(true).build().unwrap();
//! rt.block_on(async {
//!     // await asyncio.wait_for(asyncio.sleep(5), timeout=1)
//!     let slow = brigade::sleep(Duration::from_secs(5));
//!     let result = brigade::event_loop::wait_for(Duration::from_secs(1), slow).await;
//!     // Python raises TimeoutError; brigade returns it as a value.
//!     assert!(result.is_err());
//! });
//! ```
//!
//! # asyncio
//!
//! | asyncio | brigade | difference |
//! | --- | --- | --- |
//! | `asyncio.run(main())` | [`run`](crate::run) | |
//! | `asyncio.Runner` | [`Runtime`](crate::Runtime), [`Builder`](crate::event_loop::Builder) | options Python lacks: a virtual clock, a seed, the I/O driver |
//! | `get_running_loop()` | [`Handle::current`](crate::Handle::current), [`Handle::try_current`](crate::Handle::try_current) | |
//! | `create_task(coro, name=)` | [`spawn`](crate::spawn), [`spawn_named`](crate::spawn_named) | the task is awaited through its [`JoinHandle`](crate::JoinHandle) |
//! | `Task.cancel()` | [`JoinHandle::abort`](crate::JoinHandle::abort), [`AbortHandle`](crate::event_loop::AbortHandle) | cancellation is dropping (above) |
//! | `Task.done()`, `get_name()`, `result()` | [`JoinHandle::is_finished`](crate::JoinHandle::is_finished), [`name`](crate::JoinHandle::name), `.await` | a failure is a [`JoinError`](crate::JoinError): cancelled, or a panic with its message |
//! | `current_task()`, `all_tasks()`, `all_tasks(loop)` | [`current_task`](crate::event_loop::current_task), [`all_tasks`](crate::event_loop::all_tasks), [`Handle::all_tasks`](crate::Handle::all_tasks) | snapshots ([`TaskInfo`](crate::event_loop::TaskInfo)) rather than live task objects; the main future is not a task, so `current_task()` is `None` there |
//! | `gather(*aws)` | [`gather`](crate::gather) (one type), [`join!`](crate::join) (any types) | `return_exceptions=True` is the default: each output is the future's own `Result` |
//! | `gather` that fails fast | [`try_gather`](crate::try_gather), [`try_join!`](crate::try_join) | the other futures are dropped (cancelled) at the first error, as a `TaskGroup` would |
//! | `wait(aws, timeout, return_when)` | [`wait`](crate::event_loop::wait), [`try_wait`](crate::event_loop::try_wait), [`ReturnWhen`](crate::event_loop::ReturnWhen) | takes [`JoinHandle`](crate::JoinHandle)s, so the pending ones keep running, as in Python; `done` holds the results ([`Finished`](crate::event_loop::Finished)) rather than tasks |
//! | `as_completed(aws, timeout=)` | [`as_completed`](crate::event_loop::as_completed), [`AsCompleted::timeout`](crate::event_loop::AsCompleted::timeout) | after the deadline, a [`TimedOut`](crate::event_loop::TimedOut) hands back the futures not yet done |
//! | `shield(aw)` | [`shield`](crate::shield) | the work is a task of its own; dropping the [`Shield`](crate::event_loop::Shield) detaches it |
//! | `wait_for(aw, timeout)` | [`timeout`](crate::timeout), [`wait_for`](crate::event_loop::wait_for) | `Err(Elapsed)` instead of `TimeoutError`; the inner future is dropped |
//! | `async with timeout(delay)`, `timeout_at(when)` | [`time::timeout_scope`](crate::time::timeout_scope), [`time::timeout_scope_at`](crate::time::timeout_scope_at) | the body receives its [`TimeoutScope`](crate::time::TimeoutScope) to read or move its own deadline |
//! | `Timeout.when()`, `reschedule()`, `expired()` | [`Timeout::deadline`](crate::time::Timeout::deadline), [`reschedule`](crate::time::Timeout::reschedule), [`expired`](crate::time::Timeout::expired) | rescheduling an expired timeout does nothing, where asyncio raises |
//! | `sleep(delay)`, `sleep(0)` | [`sleep`](crate::sleep), [`yield_now`](crate::yield_now) | `sleep(Duration::ZERO)` also yields once |
//! | `TaskGroup`, `create_task(name=)` | [`task_group`](crate::task_group), [`TaskGroup::spawn_named`](crate::TaskGroup::spawn_named) | every failure is kept in a [`GroupError`](crate::event_loop::GroupError) (Python's `ExceptionGroup`), with its [`Origin`](crate::event_loop::Origin) |
//! | cancelling one child of a `TaskGroup` | [`GroupTask::abort`](crate::event_loop::GroupTask::abort) | the child ends cancelled and the group goes on |
//! | `to_thread(func)` | [`to_thread`](crate::to_thread) | |
//! | `run_coroutine_threadsafe(coro, loop)` | [`Handle::spawn`](crate::Handle::spawn) | its [`RemoteHandle`](crate::event_loop::RemoteHandle) is a future and can also be waited for by a thread |
//! | `loop.call_soon_threadsafe(f)` | [`Handle::call_soon`](crate::Handle::call_soon) | |
//! | `loop.call_later(delay, f)`, `call_at(when, f)`, `TimerHandle` | [`Handle::call_later`](crate::Handle::call_later), [`Handle::call_at`](crate::Handle::call_at), [`TimerHandle`](crate::event_loop::TimerHandle) | callable from any thread |
//! | `loop.run_in_executor(pool, f)` | [`ThreadPool::submit`](crate::thread::ThreadPool::submit) and `.await` the [`Job`](crate::thread::Job) | |
//! | `loop.slow_callback_duration` | [`Builder::slow_callback_duration`](crate::event_loop::Builder::slow_callback_duration) | |
//! | `Lock` | [`sync::Mutex`](crate::sync::Mutex) (alias [`sync::Lock`](crate::sync::Lock)) | the lock owns the data it guards, as Rust's locks do; [`sync::LocalMutex`](crate::sync::LocalMutex) serves the tasks of one loop only, as asyncio's lock does, without a thread lock inside |
//! | `Event`, `Condition`, `Semaphore`, `BoundedSemaphore` | [`sync::Event`](crate::sync::Event), [`Condition`](crate::sync::Condition), [`Semaphore`](crate::sync::Semaphore), [`BoundedSemaphore`](crate::sync::BoundedSemaphore) | a release beyond the bound is a [`ReleaseError`](crate::sync::ReleaseError), not `ValueError` |
//! | `Barrier`: `wait`, `abort`, `reset`, `broken` | [`sync::Barrier`](crate::sync::Barrier) | `wait` returns the arrival index in a [`BarrierWaitResult`](crate::sync::BarrierWaitResult), or a [`BrokenBarrierError`](crate::sync::BrokenBarrierError) |
//! | `Queue`, `PriorityQueue`, `LifoQueue` | [`sync::Queue`](crate::sync::Queue), [`PriorityQueue`](crate::sync::PriorityQueue), [`LifoQueue`](crate::sync::LifoQueue) | `maxsize=0` is written `unbounded()`; `bounded(0)` is a rendezvous |
//! | `Future` (set once, awaited) | [`sync::oneshot`](crate::sync::oneshot) | the setting and the awaiting ends are two values |
//! | `open_connection`, `start_server` | [`net::TcpStream::connect`](crate::net::TcpStream::connect), [`net::TcpListener`](crate::net::TcpListener) | streams and listeners rather than reader/writer pairs and callbacks |
//! | `create_subprocess_exec` | [`subprocess::Command`](crate::subprocess::Command) | |
//! | `loop.add_signal_handler` | [`signal::signal`](crate::signal::signal) | a stream of deliveries rather than a callback |
//! | `CancelledError`, `TimeoutError` | [`JoinError::Cancelled`](crate::JoinError::Cancelled), [`time::Elapsed`](crate::time::Elapsed) | values, not exceptions |
//!
//! # tokio
//!
//! | tokio | brigade | difference |
//! | --- | --- | --- |
//! | `runtime::Builder::new_current_thread()` | [`Runtime::builder`](crate::Runtime::builder) | one loop per thread; several loops for several cores ([`run_on_threads`](crate::event_loop::run_on_threads)) |
//! | `time::pause()` | [`Builder::virtual_clock`](crate::event_loop::Builder::virtual_clock) | |
//! | `task::spawn`, `spawn_blocking` | [`spawn`](crate::spawn), [`to_thread`](crate::to_thread) | tasks need not be `Send` |
//! | `task::JoinSet` | [`JoinSet`](crate::JoinSet) | |
//! | `task::yield_now` | [`yield_now`](crate::yield_now) | |
//! | `join!`, `try_join!` | [`join!`](crate::join), [`try_join!`](crate::try_join) | |
//! | `select!` | [`select`](crate::event_loop::select) (two futures), [`race`](crate::event_loop::race) (many) | functions rather than a macro |
//! | `time::sleep`, `timeout`, `interval` | [`sleep`](crate::sleep), [`timeout`](crate::timeout), [`interval`](crate::time::interval) | |
//! | `sync::Mutex`, `RwLock`, `Semaphore`, `Notify`, `Barrier` | [`sync::Mutex`](crate::sync::Mutex), [`RwLock`](crate::sync::RwLock), [`Semaphore`](crate::sync::Semaphore), [`Notify`](crate::sync::Notify), [`Barrier`](crate::sync::Barrier) | |
//! | `sync::mpsc`, `oneshot`, `watch`, `broadcast` | [`sync::mpsc`](crate::sync::mpsc), [`oneshot`](crate::sync::oneshot), [`watch`](crate::sync::watch), [`broadcast`](crate::sync::broadcast) | |
//! | `blocking_recv`, `blocking_lock` | [`mpsc::Receiver::recv_blocking`](crate::sync::mpsc::Receiver::recv_blocking), [`Mutex::blocking_lock`](crate::sync::Mutex::blocking_lock) | both panic on a loop's own thread, as tokio's do |
//! | `io::AsyncReadExt`, `AsyncWriteExt` | [`io::AsyncReadExt`](crate::io::AsyncReadExt), [`io::AsyncWriteExt`](crate::io::AsyncWriteExt) | the `futures` crate's own traits (for futures-io's `AsyncRead`/`AsyncWrite`), re-exported, so importing `futures::io`'s too is never ambiguous; tokio's `shutdown` is `close` |
//! | `net`, `fs`, `process`, `signal` | [`net`](crate::net), [`fs`](crate::fs), [`subprocess`](crate::subprocess), [`signal`](crate::signal) | file I/O on io_uring where the kernel has it |
//! | `tokio_unstable` task spans, `console-subscriber` | cargo feature `tracing`: brigade's task, timer, I/O, thread and process events as `tracing` events, and `trace::TraceLayer` | a span per poll plus `spawn`/`end` events rather than one span per task; the layer puts the program's own spans into brigade's Perfetto trace |
//! | tokio-based crates (reqwest, tokio's timers) | the [`async-compat`](https://docs.rs/async-compat) crate's `Compat` around the brigade future | tokio objects must be made inside the `Compat` future; see [`guide::tokio_crates`](crate::guide::tokio_crates) |
//!
//! # threading
//!
//! | threading | brigade | difference |
//! | --- | --- | --- |
//! | `Thread(target, args)`, `start`, `join` | [`thread::Thread`](crate::thread::Thread) | `join` returns the target's result, or its panic as a [`ThreadError`](crate::thread::ThreadError) |
//! | `current_thread`, `main_thread`, `enumerate`, `active_count`, `get_ident`, `get_native_id` | [`thread::current_thread`](crate::thread::current_thread), [`main_thread`](crate::thread::main_thread), [`enumerate`](crate::thread::enumerate), [`active_count`](crate::thread::active_count), [`get_ident`](crate::thread::get_ident), [`get_native_id`](crate::thread::get_native_id) | threads brigade did not start keep their OS name |
//! | `Lock`, `RLock`, `acquire(timeout=)` | [`thread::Lock`](crate::thread::Lock), [`thread::RLock`](crate::thread::RLock), [`Lock::lock_timeout`](crate::thread::Lock::lock_timeout) | own their data; can detect deadlocks |
//! | `Condition` | [`thread::Condition`](crate::thread::Condition) | works with [`thread::Lock`](crate::thread::Lock); `notify` returns how many it woke |
//! | `Barrier`, `BrokenBarrierError` | [`thread::Barrier`](crate::thread::Barrier), [`thread::BrokenBarrierError`](crate::thread::BrokenBarrierError) | the error says why the barrier broke, and hands back the action's panic |
//! | `Event` | [`thread::Event`](crate::thread::Event) | |
//! | `Semaphore`, `BoundedSemaphore`, `Timer` | [`thread::Semaphore`](crate::thread::Semaphore), [`thread::BoundedSemaphore`](crate::thread::BoundedSemaphore), [`thread::Timer`](crate::thread::Timer) | |
//! | `excepthook`, `ExceptHookArgs` | [`thread::set_excepthook`](crate::thread::set_excepthook), [`thread::ExceptHookArgs`](crate::thread::ExceptHookArgs) | receives the panic instead of an exception; std already prints it, so there is no default hook |
//! | `local()` | `std::thread_local!` | the standard library's |
//!
//! # concurrent.futures
//!
//! | concurrent.futures | brigade | difference |
//! | --- | --- | --- |
//! | `ThreadPoolExecutor` | [`thread::ThreadPool`](crate::thread::ThreadPool) | |
//! | `ProcessPoolExecutor` | [`process::ProcessPool`](crate::process::ProcessPool) | `ProcessPool::new(0)` is [`StartError::NoWorkers`](crate::process::StartError::NoWorkers) (Python's `ValueError`) |
//! | `Future` (of a pool) | [`thread::Job`](crate::thread::Job), [`process::PoolTask`](crate::process::PoolTask) | both can also be awaited on a loop |
//! | `Future.add_done_callback`, `exception()`, `cancel()` | [`Job::add_done_callback`](crate::thread::Job::add_done_callback), [`Job::error`](crate::thread::Job::error), [`PoolTask::cancel`](crate::process::PoolTask::cancel) | the callback gets the future by reference; `error()` never blocks |
//! | `wait(fs, timeout, return_when)` | [`thread::wait`](crate::thread::wait) (also [`process::wait`](crate::process::wait)), [`ReturnWhen`](crate::ReturnWhen) | lists in input order rather than sets; thread jobs and process tasks can be mixed |
//! | `as_completed(fs)` | [`thread::as_completed`](crate::thread::as_completed) | |
//! | `Executor.map(fn, *its, timeout=)` | [`ThreadPool::map`](crate::thread::ThreadPool::map), [`ThreadPool::map_timeout`](crate::thread::ThreadPool::map_timeout) | a failed item yields its error and the iteration goes on |
//! | `map(..., chunksize=)` | [`ThreadPool::map_chunked`](crate::thread::ThreadPool::map_chunked), [`ProcessPool::map_chunked`](crate::process::ProcessPool::map_chunked) | honoured by the thread pool too (`ThreadPoolExecutor` ignores it) |

//! # multiprocessing
//!
//! | multiprocessing | brigade | difference |
//! | --- | --- | --- |
//! | `Process(target, args)` | [`process::Process`](crate::process::Process) | the target is a Rust fn item, its arguments and result serde types |
//! | `current_process`, `parent_process`, `active_children` | [`process::current_process`](crate::process::current_process), [`parent_process`](crate::process::parent_process), [`active_children`](crate::process::active_children) | each a [`ProcessRef`](crate::process::ProcessRef) snapshot |
//! | `Pool`: `map`, `starmap`, `imap`, `imap_unordered`, `apply` | [`process::ProcessPool`](crate::process::ProcessPool) | a worker that dies fails its task only; the pool replaces it |
//! | `Pool.apply_async(f, args, callback, error_callback)`, `chunksize=` | [`ProcessPool::apply_async`](crate::process::ProcessPool::apply_async), [`ProcessPool::imap_chunked`](crate::process::ProcessPool::imap_chunked) and the other `_chunked` maps | callbacks get the value or the error by reference |
//! | `Process.close()` | [`Process::close`](crate::process::Process::close) | a closed process answers `None`/`false` instead of raising |
//! | `Pipe`, `Queue`, `JoinableQueue` | [`process::pipe`](crate::process::pipe), [`process::Queue`](crate::process::Queue), [`process::JoinableQueue`](crate::process::JoinableQueue) | typed messages |
//! | `Value`, `Array` | [`process::Value`](crate::process::Value), [`process::SharedArray`](crate::process::SharedArray) | plain-data types only ([`Pod`](crate::process::Pod)); the lock is always there |
//! | `Lock`, `RLock` | [`process::Lock`](crate::process::Lock), [`process::RLock`](crate::process::RLock) | a process that dies holding a lock is reported to the next acquirer as [`LockError::OwnerDied`](crate::process::LockError::OwnerDied), which hands over the lock; Python deadlocks |
//! | `Semaphore`, `BoundedSemaphore`, `Event`, `Condition`, `Barrier` | [`process::Semaphore`](crate::process::Semaphore), [`process::BoundedSemaphore`](crate::process::BoundedSemaphore), [`process::Event`](crate::process::Event), [`process::Condition`](crate::process::Condition), [`process::Barrier`](crate::process::Barrier) | a condition has its own lock; a barrier's action ([`Barrier::with_action`](crate::process::Barrier::with_action)) is a fn item, run by the last process to arrive |
//! | `Manager()`: `dict()`, `list()`, `Namespace()` | [`process::Manager`](crate::process::Manager): [`DictProxy`](crate::process::DictProxy), [`ListProxy`](crate::process::ListProxy), [`NamespaceProxy`](crate::process::NamespaceProxy) | typed proxies; only processes handed a proxy can connect (no address or authkey); a dead manager is [`ManagerError::ManagerDied`](crate::process::ManagerError::ManagerDied) in every client; an object is freed when its last proxy in any process is gone, as Python's server counts references, and `_number_of_objects()` is [`Manager::live_objects`](crate::process::Manager::live_objects) |
//! | `ray.util.multiprocessing.Pool(ray_address=)`, a Celery or RQ queue | `ProcessPool::builder().cluster("redis://host/0")` (cargo feature `cluster`) and workers started with `BRIGADE_WORKER=url` | tasks travel through Redis Streams; a worker of another build refuses them; delivery is at least once, each result reaches the caller once; see [`guide::cluster`](crate::guide::cluster) |
//! | `set_start_method` | [`process::StartMethod`](crate::process::StartMethod) | `spawn` (the default) or `forkserver`; `fork` is unsound in a threaded Rust program |
//! | `cpu_count()` | `std::thread::available_parallelism` | the standard library's |
