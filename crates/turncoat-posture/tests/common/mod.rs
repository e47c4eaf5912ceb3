pub mod signed_repo;
