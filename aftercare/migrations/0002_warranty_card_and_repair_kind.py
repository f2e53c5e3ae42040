# Repairs get a kind of problem and the reason for their warranty decision; projects get their warranty card.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('aftercare', '0001_initial'),
        ('contracts', '0004_alter_changeorderline_category_and_more'),
        ('leads', '0004_lead_created_and_status_change_indexes'),
        ('tenancy', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='repairrequest',
            name='category',
            field=models.CharField(blank=True, choices=[('leak', 'Leak'), ('crack', 'Cracks'), ('uneven', 'Uneven walls / floors'), ('seal', 'Door / window seal'), ('other', 'Other defect')], max_length=20, verbose_name='kind of problem'),
        ),
        migrations.AddField(
            model_name='repairrequest',
            name='coverage_reason',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.CreateModel(
            name='WarrantyCard',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.CharField(max_length=30, verbose_name='warranty card number')),
                ('year', models.PositiveSmallIntegerField()),
                ('sequence', models.PositiveIntegerField()),
                ('issued_on', models.DateField(verbose_name='issued on')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('customer', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='leads.customer')),
                ('instalment', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='contracts.instalment')),
                ('project', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='warranty_cards', to='contracts.project')),
                ('tenant', models.ForeignKey(editable=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenancy.tenant')),
            ],
            options={
                'verbose_name': 'warranty card',
                'ordering': ['-issued_on', '-id'],
                'constraints': [models.UniqueConstraint(fields=('tenant', 'project'), name='warranty_card_once_per_project'), models.UniqueConstraint(fields=('tenant', 'number'), name='warranty_card_unique_number'), models.UniqueConstraint(fields=('tenant', 'year', 'sequence'), name='warranty_card_unique_sequence')],
            },
        ),
    ]
