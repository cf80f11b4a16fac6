//! Sign-in and accounts: "central account management, mandatory two-factor authentication, least
//! privilege, on- and offboarding; brute-force attacks watched and fended off; role-based access
//! control with which users assign differentiated permissions."

pub mod otp;
pub mod passwords;
pub mod records;
pub mod service;

pub use passwords::{HashingPool, OnCallingThread};
pub use service::{Account, AuthService, SignInStep, Tokens, UserId};
