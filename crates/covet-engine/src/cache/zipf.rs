//! A seeded Zipf key trace, for measuring eviction policies (tests, benchmarks).

/// Key ranks `0..n` drawn with probability proportional to `1 / (rank + 1)^s`.
#[derive(Debug, Clone)]
pub struct Zipf {
    cumulative: Vec<f64>,
    state: u64,
}

impl Zipf {
    /// A trace over `n` keys with exponent `s`, reproducible from `seed`.
    pub fn new(n: usize, s: f64, seed: u64) -> Zipf {
        let mut total = 0.0;
        let cumulative = (1..=n)
            .map(|rank| {
                total += 1.0 / (rank as f64).powf(s);
                total
            })
            .collect();
        Zipf {
            cumulative,
            state: seed | 1,
        }
    }

    fn uniform(&mut self) -> f64 {
        // xorshift64*: plenty for a benchmark trace.
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        let bits = self.state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        bits as f64 / (1u64 << 53) as f64
    }
}

impl Iterator for Zipf {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let total = *self.cumulative.last()?;
        let target = self.uniform() * total;
        Some(self.cumulative.partition_point(|&c| c < target))
    }
}
