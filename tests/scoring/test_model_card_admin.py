"""The model card in the admin: every key under a name in the reader's language and the
group gaps as a table, not the card's raw JSON."""

from __future__ import annotations

import pytest
from django.utils import translation

from scoring.explain.model_card import gap_sections, metric_rows

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN"}


@pytest.mark.django_db
def test_the_admin_model_card_names_its_keys_in_chinese(active_model, admin_client):
    page = admin_client.get(f"/admin/scoring/modelversion/{active_model.pk}/change/", **ZH)
    html = page.content.decode()

    assert page.status_code == 200
    baseline = "基线：WOE 逻辑回归评分卡"  # noqa: RUF001
    for label in ("基尼系数", "KS 统计量", "测试样本数", "分箱方式", "单调分箱", baseline):
        assert label in html
    for band in ("较差", "中等", "良好", "优秀", "极好"):
        assert band in html
    assert "ch_on_time_rate" in html  # a feature keeps its name beside its label
    assert "越高越好" in html
    for key in ("psi_test_vs_train", "baseline_woe_logistic", "very_good", "higher_is_better"):
        assert key not in html


@pytest.mark.django_db
def test_the_group_gaps_are_a_table_not_json(active_model, admin_client):
    html = admin_client.get(
        f"/admin/scoring/modelversion/{active_model.pk}/change/", **ZH
    ).content.decode()

    gaps = html.split('class="model-card-gaps"', 1)[1].split("</table>", 1)[0]
    gap = "差距（男性减女性）"  # noqa: RUF001
    for label in ("群体", "平均分", "性别", "男性", "女性", gap, "年龄段", "16\u201324 岁"):
        assert label in gaps
    assert "mean_score" not in gaps
    assert "{" not in gaps


def test_gap_sections_put_groups_in_rows_youngest_first_with_the_gap_signed():
    fairness = {
        "gender": {"mean_score": {"F": 640.0, "M": 650.5}, "gap_male_minus_female": 10.5},
        "age_band": {"60+": 700.0, "16-24": 600.0, "25-34": 620.0},
    }

    with translation.override("en"):
        gender, ages = gap_sections(fairness)

    assert [(r.group, r.mean_score, r.is_gap) for r in gender.rows] == [
        ("Men", 650.5, False),
        ("Women", 640.0, False),
        ("Gap (men minus women)", 10.5, True),
    ]
    assert [r.group for r in ages.rows] == ["16\u201324 years", "25\u201334 years", "60+ years"]


def test_gap_sections_keep_a_group_they_do_not_know():
    [section] = gap_sections({"region": {"north": 1.0}})

    assert section.title == "region"
    assert section.rows[0].group == "{'north': 1.0}"


def test_unknown_metrics_are_shown_under_their_own_key_after_the_known_ones():
    with translation.override("en"):
        rows = metric_rows({"custom": 3, "auc": 0.81234, "binning": "plain"})

    assert rows == [
        ("AUC (area under the ROC curve)", "0.8123"),
        ("Binning", "plain WOE bins"),
        ("custom", "3"),
    ]
