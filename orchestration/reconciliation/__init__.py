"""Reconciliation: checkpoints declared once (`checkpoints`), evaluated into one status table
with history (`status`), against the source systems' own control totals (`source_controls`),
as Dagster assets and checks (`assets`)."""
