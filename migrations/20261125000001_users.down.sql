DROP TABLE auth_throttle;
DROP TABLE users;
