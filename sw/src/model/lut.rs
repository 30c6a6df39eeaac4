//! Chains of element-wise operators on one int8 tensor, executed as one 256-entry lookup table
//! (see `docs/GOLDEN_MODEL.md`, "Element-wise chains").
//!
//! A chain starts at an element-wise node whose inputs are all one value `x` and takes every
//! later element-wise node whose inputs are `x` or values of the chain (so `x * clip(x + 3, 0,
//! 6) / 6`, a HardSwish written with Add/Clip/Mul/Div, is one chain); every value of the chain but
//! the last must be read only inside it. The chain is then a function of `x` alone, and an int8
//! `x` has 256 possible values.

use std::collections::HashMap;

use super::elementwise::{clip, relu};
use super::golden::quantize_value;
use super::graph::{Graph, Op, ValueId};

/// Element-wise nodes that computed on one int8 tensor become part of a table.
fn chainable(op: &Op) -> bool {
    matches!(op, Op::Pointwise(_) | Op::Relu | Op::Clip { .. } | Op::Mul)
}

/// A chain of element-wise nodes computing a function of one value.
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    /// The chain's node indices, in execution order.
    pub nodes: Vec<usize>,
    /// The value every node derives from.
    pub input: ValueId,
    /// The value the last node produces.
    pub output: ValueId,
}

impl Chain {
    /// The longest chain starting at node `start` among the nodes not yet taken (`taken[j]`
    /// false); `None` when `start` is not element-wise on a single value. `uses` are the
    /// graph's [`Graph::use_counts`].
    pub fn from_node(graph: &Graph, start: usize, uses: &[usize], taken: &[bool]) -> Option<Self> {
        let first = &graph.nodes[start];
        let x = *first.inputs.first()?;
        if !chainable(&first.op) || first.inputs.iter().any(|&v| v != x) {
            return None;
        }
        let mut nodes = vec![start];
        let mut inside = vec![first.output];
        for (j, n) in graph.nodes.iter().enumerate().skip(start + 1) {
            let reads_chain = n.inputs.iter().any(|v| inside.contains(v));
            let only_chain = n.inputs.iter().all(|v| *v == x || inside.contains(v));
            if !taken[j] && chainable(&n.op) && reads_chain && only_chain {
                nodes.push(j);
                inside.push(n.output);
            }
        }
        // Keep the longest prefix whose inner values are read only inside it.
        while nodes.len() > 1 && !Self::closed(graph, &nodes, uses) {
            nodes.pop();
        }
        let output = graph.nodes[*nodes.last()?].output;
        Some(Self {
            nodes,
            input: x,
            output,
        })
    }

    /// Every value of `nodes` but the last is read only by `nodes` (and is no graph output).
    fn closed(graph: &Graph, nodes: &[usize], uses: &[usize]) -> bool {
        let (_, inner) = nodes.split_last().expect("non-empty chain");
        inner.iter().all(|&i| {
            let v = graph.nodes[i].output;
            let reads: usize = nodes
                .iter()
                .map(|&j| graph.nodes[j].inputs.iter().filter(|&&u| u == v).count())
                .sum();
            reads == uses[v]
        })
    }

    /// True for a single ReLU or Clip (a plain clamp, no table needed).
    pub fn is_clamp(&self, graph: &Graph) -> bool {
        self.nodes.len() == 1 && matches!(graph.nodes[self.nodes[0]].op, Op::Relu | Op::Clip { .. })
    }

    /// The chain's value for the input value `x`, node by node in f32 as the float executor
    /// computes it.
    pub fn eval(&self, graph: &Graph, x: f32) -> f32 {
        let mut vals: HashMap<ValueId, f32> = HashMap::from([(self.input, x)]);
        let mut last = x;
        for &i in &self.nodes {
            let n = &graph.nodes[i];
            let arg = |k: usize| n.inputs.get(k).and_then(|v| vals.get(v)).copied();
            let a = arg(0).unwrap_or(f32::NAN);
            last = match &n.op {
                Op::Pointwise(p) => p.apply(a),
                Op::Relu => relu(a),
                Op::Clip { min, max } => clip(a, *min, *max),
                Op::Mul => a * arg(1).unwrap_or(f32::NAN),
                other => unreachable!("{} is not chainable", other.kind()),
            };
            vals.insert(n.output, last);
        }
        last
    }
}

/// The table of `f` between int8 scales: entry `q + 128` is
/// `clamp(round(f(q * s_in) / s_out), -128, 127)` for `q` in `-128..=127` (ties away from zero).
pub fn lookup_table(f: impl Fn(f32) -> f32, s_in: f32, s_out: f32) -> Vec<i8> {
    (-128i32..=127)
        .map(|q| quantize_value(f(q as f32 * s_in), s_out))
        .collect()
}

/// Apply a table built by [`lookup_table`].
#[inline]
pub fn look_up(table: &[i8], q: i8) -> i8 {
    table[(q as i32 + 128) as usize]
}
