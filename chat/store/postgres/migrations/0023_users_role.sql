-- Supervisors and admins by role (UsersByRole). Every page of an open
-- escalation asks who the supervisors are; without this index each asking
-- read the whole users table, which under a burst of escalations on a
-- node with 19,000 users took most of its CPU.
CREATE INDEX users_role ON users (role, id);
