-- Runs once, on the first start of an empty data volume (postgres image's initdb hook), as
-- POSTGRES_USER. One database per service, as each service expects `ovop_<service>` on the
-- server; `ovop setup` would create missing ones too, so this only saves it the privilege.
CREATE DATABASE ovop_orders;
CREATE DATABASE ovop_catalog;
CREATE DATABASE ovop_logistics;
CREATE DATABASE ovop_notifications;
