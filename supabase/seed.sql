-- The default catalog, applied by `npm start` (and `supabase db push --include-seed`). Idempotent.
-- Entries are added with the catalog tables.
select 1;
