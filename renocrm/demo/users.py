"""The demo firm's logins. Plain values, importable without Django set up (`make run` prints them)."""

from renocrm.accounts.roles import Role

DEMO_SLUG = "demo"
DEMO_PASSWORD = "demo-pass-2026"
DEMO_USERS = [
    ("admin", "赵总", Role.ADMIN),
    ("sales", "钱敏", Role.SALES),
    ("designer", "孙设计", Role.DESIGNER),
    ("pm", "李工长", Role.PROJECT_MANAGER),
    ("qc", "周质检", Role.QC),
    ("service", "吴客服", Role.CUSTOMER_SERVICE),
    ("finance", "郑财务", Role.FINANCE),
]
