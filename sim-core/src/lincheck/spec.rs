//! Sequential specifications: what one correct copy of an object, applying
//! operations one at a time, would have answered. The linearizability
//! checker is generic over them; this file owns the `Spec` trait and the
//! built-in specs for the objects dsim's models expose (an add-if-absent
//! set, a register with compare-and-set, a key-value store with append).
//!
//! A spec judges one operation at a time: given a state, an operation and
//! what it returned, it says which state follows, or that the return is
//! impossible. A result of `None` means the client never learned the
//! result, so every spec must accept any result then. A spec whose states
//! own heap memory also says how much, for the memory budget.

use std::fmt::Debug;
use std::hash::Hash;
use std::marker::PhantomData;

use super::budget::heap_block_bytes;

/// A sequential specification of an object, split into independent keys.
pub trait Spec {
    type Op: Debug;
    type Ret: Debug;
    /// Operations on different keys are independent; each key is checked alone.
    type Key: Ord + Clone + Debug;
    type State: Clone + Eq + Hash + Debug;
    fn key(&self, op: &Self::Op) -> Self::Key;
    fn init(&self, key: &Self::Key) -> Self::State;
    /// The state after `op` takes effect in `state` having returned `ret`, or None if that is impossible.
    /// `ret` is None when the result is unknown (an Info op or one never completed): any result is acceptable then.
    fn step(
        &self,
        state: &Self::State,
        op: &Self::Op,
        ret: Option<&Self::Ret>,
    ) -> Option<Self::State>;
    /// The heap bytes a copy of `state` owns, blocks and allocator overhead
    /// included (`heap_block_bytes` estimates one block), for the memory
    /// budget. The memo keeps a copy per configuration, so a state that
    /// owns heap and says 0 here lets the search outgrow its budget.
    fn state_heap_bytes(&self, _state: &Self::State) -> usize {
        0
    }
    /// Whether `op` leaves every state as it was, whatever it returns (a
    /// read). With its result unknown such an operation constrains
    /// nothing: taking effect or not comes to the same, so the checker
    /// leaves it out of the search instead of trying it, and rejecting
    /// it, in every configuration it is in reach of. True for an
    /// operation that can change the state makes the checker wrong; the
    /// default, false, is always safe.
    fn is_read_only(&self, _op: &Self::Op) -> bool {
        false
    }

    // How a counterexample names things. A design's own spec says them in
    // its words (`X = 74`, `client-3`); these defaults print them as Rust
    // does.
    fn describe_key(&self, key: &Self::Key) -> String {
        format!("key {key:?}")
    }
    fn describe_op(&self, op: &Self::Op) -> String {
        format!("{op:?}")
    }
    fn describe_ret(&self, ret: &Self::Ret) -> String {
        format!("{ret:?}")
    }
    fn describe_state(&self, state: &Self::State) -> String {
        format!("the state {state:?}")
    }
    fn describe_node(&self, node: crate::NodeId) -> String {
        node.to_string()
    }
}

/// An add-if-absent set, as in the deduplication model: the operation is
/// "add element E", and it returns whether E was already present. Each
/// element is its own key, whose state is "present".
#[derive(Debug, Clone)]
pub struct SetSpec<E> {
    element: PhantomData<fn() -> E>,
}

/// A register per key holding a `V`, starting at `initial`. The CLI uses
/// canonical JSON text for `V`, with `"null"` meaning absent.
#[derive(Debug, Clone)]
pub struct RegisterSpec<K, V> {
    /// The value every key holds before its first write.
    pub initial: V,
    /// The heap bytes a value owns (`state_heap_bytes`).
    value_heap_bytes: fn(&V) -> usize,
    key: PhantomData<fn() -> K>,
}

/// One register operation: which key, and what was asked.
#[derive(Clone, PartialEq, Eq, Hash, Debug, serde::Serialize, serde::Deserialize)]
pub struct RegisterOp<K, V> {
    pub key: K,
    pub call: RegisterCall<V>,
}

/// What a register operation asks. The return value is what a `Read` read;
/// clients echo their input for `Write` and `Cas`, and it is ignored.
#[derive(Clone, PartialEq, Eq, Hash, Debug, serde::Serialize, serde::Deserialize)]
pub enum RegisterCall<V> {
    Read,
    Write(V),
    /// Set the value to `to` if it is `from`. A `Cas` that completes `Ok`
    /// succeeded; one whose comparison failed is recorded as `Fail`, since
    /// it changed nothing.
    Cas {
        from: V,
        to: V,
    },
}

/// A string value per key, starting empty, with put and append.
#[derive(Debug, Clone)]
pub struct KvSpec<K> {
    key: PhantomData<fn() -> K>,
}

/// One key-value operation: which key, and what was asked.
#[derive(Clone, PartialEq, Eq, Hash, Debug, serde::Serialize, serde::Deserialize)]
pub struct KvOp<K> {
    pub key: K,
    pub call: KvCall,
}

/// What a key-value operation asks. The return value is the value a `Get`
/// saw; for `Put` and `Append` it is ignored.
#[derive(Clone, PartialEq, Eq, Hash, Debug, serde::Serialize, serde::Deserialize)]
pub enum KvCall {
    Get,
    Put(String),
    Append(String),
}

impl<E> SetSpec<E> {
    pub fn new() -> Self {
        SetSpec {
            element: PhantomData,
        }
    }
}

impl<E> Default for SetSpec<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Ord + Clone + Hash + Debug> Spec for SetSpec<E> {
    type Op = E;
    /// Whether the element was already present.
    type Ret = bool;
    type Key = E;
    /// Whether the element is present.
    type State = bool;

    fn key(&self, element: &E) -> E {
        element.clone()
    }
    fn init(&self, _element: &E) -> bool {
        false
    }
    fn step(&self, present: &bool, _element: &E, was_present: Option<&bool>) -> Option<bool> {
        match was_present {
            Some(was_present) if was_present != present => None,
            _ => Some(true),
        }
    }
}

impl<K, V> RegisterSpec<K, V> {
    /// Registers whose values own no heap memory, as integers.
    pub fn new(initial: V) -> Self {
        RegisterSpec {
            initial,
            value_heap_bytes: |_| 0,
            key: PhantomData,
        }
    }

    /// Says what a value owns on the heap, for values that own some (the
    /// CLI's JSON text): see `Spec::state_heap_bytes`.
    pub fn with_value_heap_bytes(self, value_heap_bytes: fn(&V) -> usize) -> Self {
        RegisterSpec {
            value_heap_bytes,
            ..self
        }
    }
}

impl<K: Ord + Clone + Debug, V: Clone + Eq + Hash + Debug> Spec for RegisterSpec<K, V> {
    type Op = RegisterOp<K, V>;
    type Ret = V;
    type Key = K;
    type State = V;

    fn key(&self, op: &RegisterOp<K, V>) -> K {
        op.key.clone()
    }
    fn init(&self, _key: &K) -> V {
        self.initial.clone()
    }
    fn step(&self, value: &V, op: &RegisterOp<K, V>, ret: Option<&V>) -> Option<V> {
        match &op.call {
            RegisterCall::Read => match ret {
                Some(read) if read != value => None,
                _ => Some(value.clone()),
            },
            RegisterCall::Write(written) => Some(written.clone()),
            RegisterCall::Cas { from, to } if from == value => Some(to.clone()),
            // A known success needs a match. With the result unknown, a
            // mismatched compare is possible and leaves the value alone.
            RegisterCall::Cas { .. } => ret.is_none().then(|| value.clone()),
        }
    }
    fn state_heap_bytes(&self, value: &V) -> usize {
        (self.value_heap_bytes)(value)
    }
    fn is_read_only(&self, op: &RegisterOp<K, V>) -> bool {
        matches!(op.call, RegisterCall::Read)
    }
}

impl<K, V> RegisterOp<K, V> {
    pub fn read(key: K) -> Self {
        RegisterOp {
            key,
            call: RegisterCall::Read,
        }
    }
    pub fn write(key: K, value: V) -> Self {
        RegisterOp {
            key,
            call: RegisterCall::Write(value),
        }
    }
    pub fn cas(key: K, from: V, to: V) -> Self {
        RegisterOp {
            key,
            call: RegisterCall::Cas { from, to },
        }
    }
}

impl<K> KvSpec<K> {
    pub fn new() -> Self {
        KvSpec { key: PhantomData }
    }
}

impl<K> Default for KvSpec<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Ord + Clone + Debug> Spec for KvSpec<K> {
    type Op = KvOp<K>;
    type Ret = String;
    type Key = K;
    type State = String;

    fn key(&self, op: &KvOp<K>) -> K {
        op.key.clone()
    }
    fn init(&self, _key: &K) -> String {
        String::new()
    }
    fn step(&self, value: &String, op: &KvOp<K>, ret: Option<&String>) -> Option<String> {
        match &op.call {
            KvCall::Get => match ret {
                Some(got) if got != value => None,
                _ => Some(value.clone()),
            },
            KvCall::Put(new_value) => Some(new_value.clone()),
            KvCall::Append(suffix) => Some(format!("{value}{suffix}")),
        }
    }
    /// A copy of a string holds exactly its length.
    fn state_heap_bytes(&self, value: &String) -> usize {
        heap_block_bytes(value.len())
    }
    fn is_read_only(&self, op: &KvOp<K>) -> bool {
        matches!(op.call, KvCall::Get)
    }
}

impl<K> KvOp<K> {
    pub fn get(key: K) -> Self {
        KvOp {
            key,
            call: KvCall::Get,
        }
    }
    pub fn put(key: K, value: impl Into<String>) -> Self {
        KvOp {
            key,
            call: KvCall::Put(value.into()),
        }
    }
    pub fn append(key: K, suffix: impl Into<String>) -> Self {
        KvOp {
            key,
            call: KvCall::Append(suffix.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_add_is_absent_then_present() {
        let spec = SetSpec::<u8>::new();
        assert_eq!(spec.step(&false, &1, Some(&false)), Some(true));
        assert_eq!(spec.step(&false, &1, Some(&true)), None);
        assert_eq!(spec.step(&true, &1, Some(&true)), Some(true));
        assert_eq!(spec.step(&false, &1, None), Some(true));
    }

    #[test]
    fn register_cas_with_unknown_result_may_have_missed() {
        let spec = RegisterSpec::<u8, u32>::new(0);
        let cas = RegisterOp {
            key: 0,
            call: RegisterCall::Cas { from: 1, to: 2 },
        };
        assert_eq!(spec.step(&1, &cas, Some(&2)), Some(2));
        assert_eq!(spec.step(&0, &cas, Some(&2)), None);
        assert_eq!(spec.step(&0, &cas, None), Some(0));
        assert_eq!(spec.step(&1, &cas, None), Some(2));
    }

    #[test]
    fn read_only_operations_leave_every_state_alone_and_others_do_not_say_so() {
        let register = RegisterSpec::<u8, u32>::new(0);
        for value in [0, 1, 7] {
            assert!(register.is_read_only(&RegisterOp::read(0)));
            assert_eq!(
                register.step(&value, &RegisterOp::read(0), None),
                Some(value)
            );
        }
        assert!(!register.is_read_only(&RegisterOp::write(0, 1)));
        assert!(!register.is_read_only(&RegisterOp::cas(0, 1, 2)));
        let kv = KvSpec::<u8>::new();
        for value in ["", "ab"] {
            assert!(kv.is_read_only(&KvOp::get(0)));
            assert_eq!(
                kv.step(&value.to_owned(), &KvOp::get(0), None),
                Some(value.to_owned())
            );
        }
        assert!(!kv.is_read_only(&KvOp::put(0, "x")));
        assert!(!kv.is_read_only(&KvOp::append(0, "x")));
        assert!(!SetSpec::<u8>::new().is_read_only(&1));
    }

    #[test]
    fn states_that_own_heap_say_how_much() {
        let kv = KvSpec::<u8>::new();
        assert_eq!(kv.state_heap_bytes(&String::new()), 0);
        assert_eq!(kv.state_heap_bytes(&"x".repeat(40)), 48);
        let register = RegisterSpec::<u8, String>::new(String::new());
        assert_eq!(register.state_heap_bytes(&"12".to_owned()), 0);
        let register = register.with_value_heap_bytes(|value| heap_block_bytes(value.len()));
        assert_eq!(register.state_heap_bytes(&"12".to_owned()), 32);
    }

    #[test]
    fn kv_append_concatenates() {
        let spec = KvSpec::<u8>::new();
        let append = KvOp {
            key: 0,
            call: KvCall::Append("b".into()),
        };
        assert_eq!(
            spec.step(&"a".to_string(), &append, None),
            Some("ab".to_string())
        );
    }
}
