-- 007: static routes and call forward (placeholder)
SELECT 1;
