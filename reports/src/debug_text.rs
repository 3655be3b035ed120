//! Reads the `Debug` text of a value back into a small tree. The trace
//! describes each fault only by its `Debug` form (`TraceEvent::detail`,
//! e.g. `Partition(Groups([[NodeId(0)], [NodeId(1), NodeId(2)]]))`), and
//! the fault timeline needs to know which nodes a fault names. Derived
//! `Debug` output has a simple grammar: names with `(..)` or `{..}`
//! fields, `[..]` lists, and atoms (numbers, strings).

/// A value as its `Debug` text spells it.
#[derive(Clone, PartialEq, Debug)]
pub enum DebugValue {
    /// `Name`, `Name(a, b)` or `Name { field: a }`; a bare tuple `(a, b)`
    /// has an empty name. Tuple fields have no field name.
    Named {
        name: String,
        fields: Vec<(Option<String>, DebugValue)>,
    },
    List(Vec<DebugValue>),
    /// A number, a quoted string (quotes kept), or anything else unbroken.
    Atom(String),
}

impl DebugValue {
    /// Parses `text`; `None` if it is not well-formed derived `Debug`.
    pub fn parse(text: &str) -> Option<DebugValue> {
        let mut parser = Parser {
            chars: text.chars().collect(),
            at: 0,
        };
        let value = parser.value()?;
        parser.skip_space();
        (parser.at == parser.chars.len()).then_some(value)
    }

    pub fn name(&self) -> Option<&str> {
        match self {
            DebugValue::Named { name, .. } => Some(name),
            _ => None,
        }
    }

    /// The `index`-th field, named or not.
    pub fn field(&self, index: usize) -> Option<&DebugValue> {
        match self {
            DebugValue::Named { fields, .. } => fields.get(index).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The field called `key`.
    pub fn named_field(&self, key: &str) -> Option<&DebugValue> {
        match self {
            DebugValue::Named { fields, .. } => fields
                .iter()
                .find(|(name, _)| name.as_deref() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn items(&self) -> &[DebugValue] {
        match self {
            DebugValue::List(items) => items,
            _ => &[],
        }
    }

    /// `NodeId(k)` as `k`.
    pub fn node_id(&self) -> Option<usize> {
        if self.name() != Some("NodeId") {
            return None;
        }
        match self.field(0)? {
            DebugValue::Atom(number) => number.parse().ok(),
            _ => None,
        }
    }

    /// `Some(NodeId(k))` as `Some(Some(k))`, `None` as `Some(None)`.
    pub fn optional_node_id(&self) -> Option<Option<usize>> {
        match self.name()? {
            "None" => Some(None),
            "Some" => self.field(0)?.node_id().map(Some),
            _ => None,
        }
    }

    /// A list of `NodeId`s.
    pub fn node_ids(&self) -> Option<Vec<usize>> {
        self.items().iter().map(DebugValue::node_id).collect()
    }

    /// An integer atom.
    pub fn integer(&self) -> Option<i64> {
        match self {
            DebugValue::Atom(text) => text.parse().ok(),
            _ => None,
        }
    }
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn value(&mut self) -> Option<DebugValue> {
        self.skip_space();
        match *self.chars.get(self.at)? {
            '[' => {
                self.at += 1;
                let items = self.sequence(']')?;
                Some(DebugValue::List(
                    items.into_iter().map(|(_, v)| v).collect(),
                ))
            }
            '(' => {
                self.at += 1;
                let fields = self.sequence(')')?;
                Some(DebugValue::Named {
                    name: String::new(),
                    fields,
                })
            }
            '"' => self.string(),
            c if c.is_alphabetic() || c == '_' => self.named(),
            _ => self.atom(),
        }
    }

    fn named(&mut self) -> Option<DebugValue> {
        let name = self.word();
        self.skip_space();
        let fields = match self.chars.get(self.at) {
            Some('(') => {
                self.at += 1;
                self.sequence(')')?
            }
            Some('{') => {
                self.at += 1;
                self.sequence('}')?
            }
            _ => Vec::new(),
        };
        Some(DebugValue::Named { name, fields })
    }

    /// Comma-separated values (with optional `key:` prefixes) up to `close`.
    fn sequence(&mut self, close: char) -> Option<Vec<(Option<String>, DebugValue)>> {
        let mut fields = Vec::new();
        loop {
            self.skip_space();
            if self.chars.get(self.at) == Some(&close) {
                self.at += 1;
                return Some(fields);
            }
            let key = self.field_key();
            fields.push((key, self.value()?));
            self.skip_space();
            match self.chars.get(self.at)? {
                ',' => self.at += 1,
                c if *c == close => {}
                _ => return None,
            }
        }
    }

    /// `key:` if one comes next (and not a `::` path).
    fn field_key(&mut self) -> Option<String> {
        let start = self.at;
        let word = self.word();
        self.skip_space();
        let colon =
            self.chars.get(self.at) == Some(&':') && self.chars.get(self.at + 1) != Some(&':');
        if !word.is_empty() && colon {
            self.at += 1;
            return Some(word);
        }
        self.at = start;
        None
    }

    fn word(&mut self) -> String {
        let start = self.at;
        while self
            .chars
            .get(self.at)
            .is_some_and(|c| c.is_alphanumeric() || *c == '_')
        {
            self.at += 1;
        }
        self.chars[start..self.at].iter().collect()
    }

    fn string(&mut self) -> Option<DebugValue> {
        let start = self.at;
        self.at += 1;
        loop {
            match self.chars.get(self.at)? {
                '\\' => self.at += 2,
                '"' => {
                    self.at += 1;
                    return Some(DebugValue::Atom(
                        self.chars[start..self.at].iter().collect(),
                    ));
                }
                _ => self.at += 1,
            }
        }
    }

    fn atom(&mut self) -> Option<DebugValue> {
        let start = self.at;
        while self.chars.get(self.at).is_some_and(|c| {
            !matches!(c, ',' | ')' | ']' | '}' | '(' | '[' | '{') && !c.is_whitespace()
        }) {
            self.at += 1;
        }
        (self.at > start).then(|| DebugValue::Atom(self.chars[start..self.at].iter().collect()))
    }

    fn skip_space(&mut self) {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_partitions_of_every_shape() {
        let groups =
            DebugValue::parse("Partition(Groups([[NodeId(0), NodeId(3)], [NodeId(1)]]))").unwrap();
        let inner = groups.field(0).unwrap();
        assert_eq!(inner.name(), Some("Groups"));
        let sides: Vec<_> = inner
            .field(0)
            .unwrap()
            .items()
            .iter()
            .map(|g| g.node_ids().unwrap())
            .collect();
        assert_eq!(sides, vec![vec![0, 3], vec![1]]);

        let bridge = DebugValue::parse(
            "Partition(Bridge { left: [NodeId(0)], bridge: NodeId(2), right: [NodeId(1)] })",
        )
        .unwrap();
        let inner = bridge.field(0).unwrap();
        assert_eq!(inner.named_field("bridge").unwrap().node_id(), Some(2));
        assert_eq!(
            inner.named_field("right").unwrap().node_ids(),
            Some(vec![1])
        );
    }

    #[test]
    fn reads_struct_variants_options_and_negative_numbers() {
        let step = DebugValue::parse("ClockStep { node: NodeId(4), delta_us: -1500 }").unwrap();
        assert_eq!(step.named_field("delta_us").unwrap().integer(), Some(-1500));
        let link = DebugValue::parse(
            "Link { from: Some(NodeId(1)), to: None, link: LinkConfig { latency: Uniform { min_us: 1, max_us: 2 }, fifo: false } }",
        )
        .unwrap();
        assert_eq!(
            link.named_field("from").unwrap().optional_node_id(),
            Some(Some(1))
        );
        assert_eq!(
            link.named_field("to").unwrap().optional_node_id(),
            Some(None)
        );
        assert_eq!(DebugValue::parse("Heal").unwrap().name(), Some("Heal"));
    }

    #[test]
    fn strings_may_hold_brackets_and_bad_text_is_rejected() {
        let value = DebugValue::parse(r#"Note("a ) \" ]")"#).unwrap();
        assert_eq!(
            value.field(0),
            Some(&DebugValue::Atom(r#""a ) \" ]""#.to_owned()))
        );
        assert_eq!(DebugValue::parse("Crash(NodeId(1)"), None);
    }
}
