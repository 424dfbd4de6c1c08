//! An independent reference book for tests: the simplest possible L3 book
//! (a `HashMap` of orders with a priority counter), written without looking at
//! `book::L3Book`'s data structure, applying the same documented policy.

#![allow(dead_code)]

use std::collections::HashMap;

use dbn::{flags, MboMsg, UNDEF_PRICE};

#[derive(Debug, Clone, Copy)]
pub struct RefOrder {
    pub side: u8,
    pub price: i64,
    pub size: u32,
    pub prio: u64,
}

#[derive(Debug, Default)]
pub struct RefBook {
    pub orders: HashMap<u64, RefOrder>,
    /// (side, price) -> (total size, order count)
    pub levels: HashMap<(u8, i64), (u64, u32)>,
    next_prio: u64,
    in_snapshot: bool,
}

impl RefBook {
    fn insert(&mut self, id: u64, side: u8, price: i64, size: u32) {
        let prio = self.next_prio;
        self.next_prio += 1;
        self.orders.insert(
            id,
            RefOrder {
                side,
                price,
                size,
                prio,
            },
        );
        let l = self.levels.entry((side, price)).or_default();
        l.0 += u64::from(size);
        l.1 += 1;
    }

    fn remove(&mut self, id: u64) -> RefOrder {
        let o = self.orders.remove(&id).unwrap();
        let l = self.levels.get_mut(&(o.side, o.price)).unwrap();
        l.0 -= u64::from(o.size);
        l.1 -= 1;
        if l.1 == 0 {
            self.levels.remove(&(o.side, o.price));
        }
        o
    }

    fn clear(&mut self) {
        self.orders.clear();
        self.levels.clear();
    }

    fn valid_add(&self, id: u64, price: i64, size: u32) -> bool {
        size > 0 && price != UNDEF_PRICE && !self.orders.contains_key(&id)
    }

    /// Applies a record; returns whether it was accepted (`Ok` in the real book).
    pub fn apply(&mut self, m: &MboMsg) -> bool {
        let fl = m.flags.raw();
        let action = m.action as u8;
        let side = m.side as u8;
        if fl & flags::SNAPSHOT != 0 {
            if !self.in_snapshot {
                self.in_snapshot = true;
                if action != b'R' && !self.orders.is_empty() {
                    self.clear();
                }
            }
        } else {
            self.in_snapshot = false;
        }
        let sided = side == b'B' || side == b'A';
        match action {
            b'A' => {
                if !sided {
                    return false;
                }
                if fl & flags::TOB != 0 {
                    if m.price != UNDEF_PRICE {
                        if m.size == 0 {
                            return false;
                        }
                        if let Some(o) = self.orders.get(&m.order_id) {
                            if o.side != side {
                                return false;
                            }
                        }
                    }
                    let ids: Vec<u64> = self
                        .orders
                        .iter()
                        .filter(|(_, o)| o.side == side)
                        .map(|(id, _)| *id)
                        .collect();
                    for id in ids {
                        self.remove(id);
                    }
                    if m.price != UNDEF_PRICE {
                        self.insert(m.order_id, side, m.price, m.size);
                    }
                    return true;
                }
                if !self.valid_add(m.order_id, m.price, m.size) {
                    return false;
                }
                self.insert(m.order_id, side, m.price, m.size);
                true
            }
            b'C' => {
                if !sided {
                    return false;
                }
                let Some(o) = self.orders.get(&m.order_id).copied() else {
                    return false;
                };
                if m.size >= o.size {
                    self.remove(m.order_id);
                } else {
                    self.orders.get_mut(&m.order_id).unwrap().size -= m.size;
                    self.levels.get_mut(&(o.side, o.price)).unwrap().0 -= u64::from(m.size);
                }
                true
            }
            b'M' => {
                if !sided {
                    return false;
                }
                let Some(o) = self.orders.get(&m.order_id).copied() else {
                    if !self.valid_add(m.order_id, m.price, m.size) {
                        return false;
                    }
                    self.insert(m.order_id, side, m.price, m.size);
                    return true;
                };
                if o.side != side {
                    return false;
                }
                if m.size == 0 {
                    self.remove(m.order_id);
                    return true;
                }
                if m.price == UNDEF_PRICE {
                    return false;
                }
                if m.price != o.price || m.size > o.size {
                    self.remove(m.order_id);
                    self.insert(m.order_id, side, m.price, m.size);
                } else {
                    self.orders.get_mut(&m.order_id).unwrap().size = m.size;
                    self.levels.get_mut(&(side, o.price)).unwrap().0 -= u64::from(o.size - m.size);
                }
                true
            }
            b'R' => {
                self.clear();
                true
            }
            b'F' | b'T' | b'N' => true,
            _ => false,
        }
    }

    /// The best `n` levels of a side as (price, size, count), best first.
    pub fn top(&self, side: u8, n: usize) -> Vec<(i64, u64, u32)> {
        let mut v: Vec<(i64, u64, u32)> = self
            .levels
            .iter()
            .filter(|((s, _), _)| *s == side)
            .map(|((_, p), (sz, ct))| (*p, *sz, *ct))
            .collect();
        if side == b'B' {
            v.sort_by_key(|b| std::cmp::Reverse(b.0));
        } else {
            v.sort_by_key(|a| a.0);
        }
        v.truncate(n);
        v
    }

    /// Like `top` but without sorting every level: a partial selection.
    pub fn top_fast(&self, side: u8, n: usize) -> Vec<(i64, u64, u32)> {
        let better = |a: i64, b: i64| if side == b'B' { a > b } else { a < b };
        let mut best: Vec<(i64, u64, u32)> = Vec::with_capacity(n + 1);
        for ((s, p), (sz, ct)) in &self.levels {
            if *s != side {
                continue;
            }
            if best.len() == n && !better(*p, best[n - 1].0) {
                continue;
            }
            let pos = best
                .iter()
                .position(|x| better(*p, x.0))
                .unwrap_or(best.len());
            best.insert(pos, (*p, *sz, *ct));
            best.truncate(n);
        }
        best
    }

    /// Order ids at a level, in priority order.
    pub fn queue(&self, side: u8, price: i64) -> Vec<u64> {
        let mut v: Vec<(u64, u64)> = self
            .orders
            .iter()
            .filter(|(_, o)| o.side == side && o.price == price)
            .map(|(id, o)| (o.prio, *id))
            .collect();
        v.sort();
        v.into_iter().map(|(_, id)| id).collect()
    }

    /// Every level's order ids in priority order, built in one pass.
    pub fn queues(&self) -> HashMap<(u8, i64), Vec<u64>> {
        let mut m: HashMap<(u8, i64), Vec<(u64, u64)>> = HashMap::new();
        for (id, o) in &self.orders {
            m.entry((o.side, o.price)).or_default().push((o.prio, *id));
        }
        m.into_iter()
            .map(|(k, mut v)| {
                v.sort();
                (k, v.into_iter().map(|(_, id)| id).collect())
            })
            .collect()
    }
}
