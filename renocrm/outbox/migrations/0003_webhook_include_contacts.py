from django.db import migrations, models

# Answers stored before deliveries kept only a snippet may hold up to 2,000 bytes of whatever a URL returned
# (an internal page, when the URL pointed inside the network): cut them to the snippet kept from now on. Row
# security applies to the owner too, so each firm's rows are cut in that firm's scope.
TRIM_STORED_ANSWERS = """
DO $$
DECLARE firm bigint;
BEGIN
    FOR firm IN SELECT id FROM tenancy_tenant LOOP
        PERFORM set_config('app.tenant_id', firm::text, true);
        UPDATE outbox_webhookdelivery SET last_response_body = left(last_response_body, 256)
        WHERE length(last_response_body) > 256;
    END LOOP;
    PERFORM set_config('app.tenant_id', '', true);
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("outbox", "0002_notification_attachment"),
        ("tenancy", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="webhookendpoint",
            name="include_contacts",
            field=models.BooleanField(default=False, verbose_name="send contact details"),
        ),
        migrations.RunSQL(TRIM_STORED_ANSWERS, migrations.RunSQL.noop),
    ]
