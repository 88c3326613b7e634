"""The first published version of each consent text."""

from django.db import migrations

TEXTS = [
    {
        "purpose": "scoring",
        "title_zh": "授权计算我的信用分",
        "title_en": "Compute my credit score",
        "body_zh": (
            "用途：仅用于计算、展示和解释我的芝麻门户信用分。\n"
            "使用的数据：我的实名信息（出生年份，不含性别、民族、地区）、我填写或验证的资料、"
            "借贷账户与还款记录、支付与转账行为、理财与资产。\n"
            "期限：直到我撤回为止；撤回后立即停止重新计算，并不再显示我的分数。\n"
            "不转授权：本授权不允许向任何第三方提供我的数据或分数；"
            "向合作方共享需要我另行、逐一授权。"
        ),
        "body_en": (
            "Purpose: only to compute, show and explain my Sesame Portal credit score.\n"
            "Data used: my verified identity (year of birth; never gender, ethnicity or "
            "region), the profile I complete or verify, credit accounts and repayments, "
            "payment and transfer activity, wealth products and assets.\n"
            "Duration: until I revoke it; revoking stops recomputation at once and hides "
            "my score.\n"
            "No re-sharing: this consent gives no third party my data or score; sharing with "
            "a partner needs a separate consent for each partner."
        ),
    },
    {
        "purpose": "social_connections",
        "title_zh": "授权使用我的人脉关系数据",
        "title_en": "Use my social connections",
        "body_zh": (
            "用途：把我已验证好友的数量、他们上一期的平均分和其中被列入失信名单的比例，"
            "作为“人脉关系”维度计入我的信用分。\n"
            "期限：直到我撤回为止；撤回后该维度按无数据计算。\n"
            "不转授权：不会向好友或任何第三方透露我的分数或数据。"
        ),
        "body_en": (
            "Purpose: count my verified friends, their mean score from the previous run and "
            "the share of them on the court list in the social connections dimension of my "
            "score.\n"
            "Duration: until I revoke it; after that the dimension is computed as having no "
            "data.\n"
            "No re-sharing: nothing about my score or data is shown to friends or anyone else."
        ),
    },
    {
        "purpose": "utility_bills",
        "title_zh": "授权使用我的生活缴费记录",
        "title_en": "Use my utility bills",
        "body_zh": (
            "用途：把水、电、燃气、通信账单是否按时缴纳计入“行为偏好”维度。\n"
            "期限：直到我撤回为止；撤回后不再使用这些记录。\n"
            "不转授权：不会向任何第三方提供这些记录。"
        ),
        "body_en": (
            "Purpose: count whether my water, power, gas and phone bills were paid on time in "
            "the behaviour dimension of my score.\n"
            "Duration: until I revoke it; after that these records are no longer used.\n"
            "No re-sharing: these records are given to no third party."
        ),
    },
    {
        "purpose": "partner_sharing",
        "title_zh": "授权向合作方共享",
        "title_en": "Share with a partner",
        "body_zh": (
            "对象：仅限我选定的这一家合作方。\n"
            "用途：仅限我写明的这一个用途。\n"
            "范围：仅限我选择的内容（仅分数；分数和五个维度分；或某一权益的是否符合条件），"
            "不包括身份证号、姓名或任何明细记录。\n"
            "期限：到我选定的日期为止，我也可以随时撤回，撤回后合作方的下一次查询即被拒绝。\n"
            "不转授权：合作方不得将所获信息提供、出售或转授权给任何第三方；"
            "每一次查询都会记录并展示给我。"
        ),
        "body_en": (
            "Who: only the one partner I choose.\n"
            "Purpose: only the one purpose I state.\n"
            "Scope: only what I choose (the score; the score and five sub-scores; or yes/no "
            "eligibility for one benefit), never my ID number, name or detailed records.\n"
            "Duration: until the date I choose; I can revoke earlier at any time and the "
            "partner's next query is then refused.\n"
            "No re-sharing: the partner may not pass on, sell or sublicense what it receives; "
            "every query is logged and shown to me."
        ),
    },
]


def publish(apps, schema_editor):
    ConsentText = apps.get_model("accounts", "ConsentText")
    for text in TEXTS:
        ConsentText.objects.get_or_create(purpose=text["purpose"], version=1, defaults=text)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_initial")]

    operations = [migrations.RunPython(publish, migrations.RunPython.noop)]
