//! The capacity theory: capacity of a matrix, the quadratic model's closed forms, optimal
//! allocation, realisation of an allocation as a matrix, and (feature `exact`) exact
//! rational arithmetic. Never imports `training`.

pub mod quadratic;
