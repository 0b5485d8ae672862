//! The pattern language's semantics, one module per area, each a table of
//! (pattern, event, expected) cases. Examples from the EventBridge and Lambda
//! user guides come first in each table; our own edge cases follow.

mod common;

mod anything_but;
mod arrays;
mod cidr;
mod equality;
mod ignore_case;
mod lambda_filters;
mod limits;
mod nesting;
mod never_panics;
mod null_exists;
mod numeric;
mod or;
mod parse_errors;
mod prefix_suffix;
mod wildcard;
