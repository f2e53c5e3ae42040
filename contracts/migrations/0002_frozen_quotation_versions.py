from django.db import migrations

# A sent quotation version is what the customer saw: the database refuses any change to its items or total,
# whatever code path tries.
FORWARD = """
CREATE OR REPLACE FUNCTION contracts_refuse_sent_item_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    version_status text;
BEGIN
    SELECT status INTO version_status FROM contracts_quotationversion
     WHERE id = coalesce(NEW.version_id, OLD.version_id);
    IF version_status IS DISTINCT FROM 'draft' THEN
        RAISE EXCEPTION 'quotation version % has been sent and its items are frozen',
            coalesce(NEW.version_id, OLD.version_id) USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN coalesce(NEW, OLD);
END;
$$;
CREATE TRIGGER contracts_frozen_items BEFORE INSERT OR UPDATE OR DELETE ON contracts_quotationitem
    FOR EACH ROW EXECUTE FUNCTION contracts_refuse_sent_item_change();

CREATE OR REPLACE FUNCTION contracts_refuse_sent_total_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> 'draft' AND NEW.total IS DISTINCT FROM OLD.total THEN
        RAISE EXCEPTION 'quotation version % has been sent and its total is frozen', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER contracts_frozen_total BEFORE UPDATE ON contracts_quotationversion
    FOR EACH ROW EXECUTE FUNCTION contracts_refuse_sent_total_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS contracts_frozen_items ON contracts_quotationitem;
DROP TRIGGER IF EXISTS contracts_frozen_total ON contracts_quotationversion;
DROP FUNCTION IF EXISTS contracts_refuse_sent_item_change();
DROP FUNCTION IF EXISTS contracts_refuse_sent_total_change();
"""


class Migration(migrations.Migration):
    dependencies = [("contracts", "0001_initial")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
