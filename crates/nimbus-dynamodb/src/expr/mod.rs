//! The DynamoDB expression language: condition, filter, key condition, update
//! and projection expressions, with attribute name / value substitution.
