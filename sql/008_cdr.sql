-- 008: call records (placeholder)
SELECT 1;
