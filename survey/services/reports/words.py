"""The printable report's words in Vietnamese (default) and English.

The report is produced outside a web request (``sipas report``), so its phrases live here
as data rather than in the gettext catalogue the web pages use.
"""

from __future__ import annotations

from survey.services.reports.rows import IndexRow, number

T: dict[str, dict[str, str]] = {
    "vi": {
        "chart_more": "… còn {n} dòng khác: xem bảng bên dưới",
        "chart_extremes": "{n} cao nhất và {n} thấp nhất",
        "no_round": "Chưa có đợt khảo sát hộ gia đình.",
        "figure": "Hình",
        "no_verified_round": "Đợt {round} chưa có phiếu hộ gia đình đã kiểm tra.",
        "no_verified_in": "Không có phiếu đã kiểm tra ở {scope}.",
        "design_unusable": "Không dùng được thiết kế mẫu của đợt này: {reason}",
        "title": "Báo cáo chỉ số hài lòng về sự phục vụ hành chính",
        "sipas_index": "Chỉ số SIPAS", "round": "đợt", "ci": "KTC",
        "no_household": "Chưa có số liệu khảo sát hộ gia đình đã kiểm tra.",
        "by_element": "Chỉ số theo yếu tố", "by_criterion": "Chỉ số theo tiêu chí",
        "indicator": "Chỉ số", "index_pct": "Chỉ số (%)", "ci_pct": "KTC 95% (%)",
        "verdict": "So với mục tiêu", "code": "Mã", "criterion": "Tiêu chí",
        "mean_score": "Điểm TB (1–5)", "dissatisfied_pct": "Không hài lòng (%)",
        "by": "Theo", "province": "tỉnh", "district": "huyện", "commune": "xã",
        "hamlet": "thôn/ấp",
        "e_levels": "cấp cơ quan", "e_fields": "lĩnh vực thủ tục",
        "overlap": ("Có thể chọn nhiều câu trả lời: một người trả lời được tính trong mỗi "
                    "nhóm đã chọn, nên các nhóm chồng lấn và tổng n lớn hơn tổng số."),
        "rank": "Xếp hạng (khoảng 95%)",
        "rank_note": ("Xếp hạng: 1 là chỉ số cao nhất. Khoảng trong ngoặc chứa thứ hạng thực "
                      "của địa bàn với độ tin cậy 95%, nên các địa bàn có khoảng chồng lên "
                      "nhau thì chưa phân biệt được với nhau."),
        "map_note": ("Đợt này được khảo sát theo địa giới hành chính cũ. Kết quả được trình "
                     "bày theo địa giới hiện hành: phiếu của đơn vị đã sáp nhập được tính "
                     "vào đơn vị tiếp nhận."),
        "now_includes": "{unit} nay gồm cả {former} trước đây",
        "and_more": "và {n} đơn vị khác",
        "merged_count": "{old} đơn vị cũ nay thuộc {new} đơn vị hiện nay (xem bảng theo cấp này).",
        "all_desks": "Tất cả các Bộ phận",
        "trend_biggest": ("Biểu đồ vẽ tất cả các Bộ phận và {n} cơ quan có nhiều lượt đánh "
                          "giá nhất trong quý gần nhất; bảng trên liệt kê mọi cơ quan."),
        "round_trend": "Chỉ số SIPAS qua các đợt khảo sát",
        "priorities": "Mong muốn cải thiện (rất nhiều hoặc nhiều)", "priority": "Nội dung",
        "vs_previous_round": "So với đợt trước", "difference": "Chênh lệch (điểm %)",
        "conclusion": "Kết luận", "no_previous_round": "Chưa có đợt khảo sát trước để so sánh.",
        "desk_evaluations": "Đánh giá tại Bộ phận Một cửa",
        "desk_caveat": (
            "Đánh giá tại Bộ phận Một cửa do người dân tự nguyện thực hiện (quét mã QR, máy "
            "tính bảng tại quầy hoặc phiếu giấy), không phải mẫu xác suất: kết quả phản ánh ý "
            "kiến của những người đã đánh giá, được trình bày riêng theo từng Bộ phận và không "
            "gộp với chỉ số SIPAS hộ gia đình."),
        "desk_overall": "Tỷ lệ hài lòng chung (mỗi đánh giá tính một lần)",
        "desk_weighted": "Tỷ lệ hài lòng gia quyền theo số hồ sơ",
        "model_caveat": ("Trọng số theo số hồ sơ là một mô hình (giả định người đánh giá "
                         "đại diện cho hồ sơ của quầy), không phải thiết kế mẫu."),
        "left_out": "Không tính các quầy chưa có số hồ sơ", "desk": "Quầy", "name": "Tên",
        "evaluations": "Số đánh giá", "dossiers": "Số hồ sơ", "coverage": "Độ phủ",
        "by_desk": "Tỷ lệ hài lòng theo quầy", "trend": "Xu hướng theo quý (đánh giá tại quầy)",
        "methodology": "Ghi chú phương pháp", "generated": "Ngày lập báo cáo",
        "above": "Đạt mục tiêu {t}% (cận dưới KTC ≥ {t}%)",
        "below": "Chưa đạt mục tiêu {t}% (cận trên KTC < {t}%)",
        "inconclusive": "Chưa kết luận được so với mục tiêu {t}% (KTC chứa {t}%)",
        "above_short": "Đạt", "below_short": "Chưa đạt", "inconclusive_short": "Chưa kết luận",
        "method_design": (
            "Khảo sát hộ gia đình đợt {round}: mẫu xác suất phân tầng nhiều giai đoạn; "
            "{rows} phiếu đã kiểm tra, {n} người trả lời có giao dịch thủ tục hành chính, "
            "{strata} tầng, {psus} đơn vị mẫu bậc 1 (thôn/ấp), bậc tự do df = {df}. "
            "Ước lượng có trọng số (trọng số thiết kế = 1/xác suất chọn), sai số chuẩn tính "
            "bằng tuyến tính hóa theo cụm bậc 1 (như gói survey của R); hệ số thiết kế "
            "(deff) trung vị của các tiêu chí: {deff}. Khoảng tin cậy {level}% theo thang "
            "logit với phân phối t (df). Ô có dưới {min_n} người trả lời không được công bố; "
            "ô có df ≤ 0 (quá ít đơn vị mẫu) không có khoảng tin cậy. Mục tiêu: {target}%."),
        "method_index": (
            "Chỉ số tiêu chí = tỷ lệ có trọng số trả lời 4 hoặc 5 trong số câu trả lời hợp lệ "
            "(1–5; \"không trả lời\" bị loại khỏi tiêu chí đó). Chỉ số yếu tố = trung bình "
            "các tiêu chí; chỉ số SIPAS = trung bình các yếu tố có câu trả lời. Kết luận so "
            "với mục tiêu dựa trên khoảng tin cậy: đạt khi cận dưới ≥ mục tiêu, chưa đạt khi "
            "cận trên < mục tiêu, còn lại là chưa kết luận được. So sánh hai đợt: hai mẫu "
            "độc lập, sai số chuẩn của chênh lệch = √(SE₁² + SE₂²), df nhỏ hơn của hai đợt."),
        "method_desk": (
            "Đánh giá tại Bộ phận Một cửa: không phải mẫu xác suất; khoảng tin cậy "
            "(Korn–Graubard) chỉ mô tả dao động ngẫu nhiên nếu người đánh giá là một mẫu ngẫu "
            "nhiên của hồ sơ, điều này không được bảo đảm. Độ phủ = số đánh giá ÷ số hồ sơ đã "
            "giải quyết. "
            "Không so sánh trực tiếp với chỉ số SIPAS hộ gia đình."),
    },
    "en": {
        "chart_more": "… {n} more: see the table below",
        "chart_extremes": "the {n} highest and the {n} lowest",
        "no_round": "No household survey round yet.",
        "figure": "Figure",
        "no_verified_round": "Round {round} has no verified household questionnaires yet.",
        "no_verified_in": "No verified questionnaires in {scope}.",
        "design_unusable": "The round's design cannot be used: {reason}",
        "title": "Citizen satisfaction with public administrative services",
        "sipas_index": "SIPAS index", "round": "round", "ci": "CI",
        "no_household": "No verified household survey data yet.",
        "by_element": "Index by element", "by_criterion": "Index by criterion",
        "indicator": "Indicator", "index_pct": "Index (%)", "ci_pct": "95% CI (%)",
        "verdict": "Against target", "code": "Code", "criterion": "Criterion",
        "mean_score": "Mean score (1–5)", "dissatisfied_pct": "Dissatisfied (%)",
        "by": "By", "province": "province", "district": "district", "commune": "commune",
        "hamlet": "hamlet",
        "e_levels": "agency level", "e_fields": "service field",
        "overlap": ("Several answers may be chosen: a respondent counts in each chosen "
                    "group, so the groups overlap and their n add up to more than the total."),
        "rank": "Rank (95% interval)",
        "rank_note": ("Rank: 1 is the highest index. The interval in brackets holds the area's "
                      "true rank with 95% confidence, so areas whose intervals overlap cannot "
                      "be told apart."),
        "map_note": ("This round was surveyed on the former administrative map. It is shown "
                     "on today's map: the questionnaires of a merged unit count in the unit "
                     "that took it over."),
        "now_includes": "{unit} now includes the former {former}",
        "and_more": "and {n} more units",
        "merged_count": "{old} former units now lie in {new} of today's (see the table by this "
                        "level).",
        "all_desks": "All desks",
        "trend_biggest": ("The chart draws all desks and the {n} agencies with the most "
                          "evaluations in the latest quarter; the table above lists every "
                          "agency."),
        "round_trend": "SIPAS index by survey round",
        "priorities": "Improvement priorities (very much or much)", "priority": "Priority",
        "vs_previous_round": "Against the previous round", "difference": "Difference (points)",
        "conclusion": "Conclusion", "no_previous_round": "No previous round to compare with.",
        "desk_evaluations": "One-stop desk evaluations",
        "desk_caveat": (
            "Desk evaluations are self-selected (QR code, counter tablet or paper slip), not a "
            "probability sample: they describe the people who chose to evaluate, shown per "
            "desk, and are never pooled with the household SIPAS index."),
        "desk_overall": "Overall share satisfied (each evaluation counts once)",
        "desk_weighted": "Share satisfied weighted by dossier volume",
        "model_caveat": ("Volume weights are a model (evaluators assumed to represent their "
                         "desk's dossiers), not a sample design."),
        "left_out": "Desks without a dossier count left out", "desk": "Desk", "name": "Name",
        "evaluations": "Evaluations", "dossiers": "Dossiers", "coverage": "Coverage",
        "by_desk": "Share satisfied by desk", "trend": "Trend by quarter (desk evaluations)",
        "methodology": "Methodology", "generated": "Report date",
        "above": "Above the {t}% target (CI lower bound ≥ {t}%)",
        "below": "Below the {t}% target (CI upper bound < {t}%)",
        "inconclusive": "Inconclusive against the {t}% target (the CI contains {t}%)",
        "above_short": "above", "below_short": "below", "inconclusive_short": "inconclusive",
        "method_design": (
            "Household survey round {round}: stratified multistage probability sample; "
            "{rows} verified questionnaires, {n} respondents who dealt with a procedure, "
            "{strata} strata, {psus} primary sampling units (hamlets), df = {df}. Weighted "
            "estimates (design weight = 1/selection probability); standard errors by "
            "ultimate-cluster linearisation (as R's survey package); median design effect "
            "of the criteria: {deff}. {level}% CIs on the logit scale with t(df). Cells with "
            "fewer than {min_n} respondents are suppressed; cells with df ≤ 0 (too few PSUs) "
            "get no interval. Target: {target}%."),
        "method_index": (
            "Criterion index = weighted share of valid answers (1–5) that are 4 or 5 (\"no "
            "answer\" leaves that criterion only). Element index = mean of its criteria; "
            "SIPAS = mean of the elements with answers. The target verdict reads the CI: "
            "above when the lower bound ≥ target, below when the upper bound < target, else "
            "inconclusive. Rounds are compared as independent samples: SE of the "
            "difference = √(SE₁² + SE₂²), with the smaller df."),
        "method_desk": (
            "Desk evaluations are not a probability sample; their (Korn–Graubard) intervals "
            "describe chance variation only if evaluators were a random draw of the desk's "
            "dossiers, which nobody guarantees. Coverage = evaluations ÷ dossiers handled. "
            "Do not compare them directly with the household SIPAS index."),
    },
}


def verdict_words(row: IndexRow, target: float | None, lang: str, short: bool = False) -> str:
    """The target verdict in words (with the one-sided p-value in the long form)."""
    if target is None or row.verdict is None:
        return "" if short else row.reason
    t = T[lang]
    if short:
        return t[f"{row.verdict}_short"]
    text = t[row.verdict].format(t=f"{100 * target:g}")
    if row.p_value is None:
        return f"{text}."
    return f"{text}, p = {number(row.p_value, '.3f', lang)}."


MERGERS_SHOWN = 30  # per level: a commune list can run to hundreds after a reform


def merged_text(formers: dict[str, dict[str, tuple[str, ...]]], lang: str) -> list[str]:
    """What the reform merged, in words: the note first, then the highest level's mergers
    ("Tỉnh: Tỉnh Tuyên Quang nay gồm cả Tỉnh Hà Giang trước đây; …") and, for each level
    below, how many units were merged into how many; nothing when the round was surveyed
    on today's map."""
    if not formers:
        return []
    t = T.get(lang, T["vi"])
    out = [t["map_note"]]
    for k, (level, units) in enumerate(formers.items()):
        if k:  # below the first level, how many: a national list of communes is a wall
            olds = {old for names in units.values() for old in names}
            out.append(f"{t[level].capitalize()}: " + t["merged_count"].format(
                old=number(len(olds), "d", lang), new=number(len(units), "d", lang)))
            continue
        parts = [t["now_includes"].format(unit=unit, former=", ".join(olds))
                 for unit, olds in list(units.items())[:MERGERS_SHOWN]]
        if len(units) > MERGERS_SHOWN:
            parts.append(t["and_more"].format(n=number(len(units) - MERGERS_SHOWN, "d", lang)))
        out.append(f"{t[level].capitalize()}: {'; '.join(parts)}.")
    return out
