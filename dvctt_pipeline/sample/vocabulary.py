"""Vietnamese words the sample generator composes names from.

Everything here is invented or generic: department titles, procedure names built from an
action and an object, and applicant names. No real person or dossier is represented.
"""

from __future__ import annotations

# Provincial departments before 1 July 2025, in the order agencies take them: a province
# with n departments gets the first n (Hòa Bình 17, others 15–20).
LEGACY_DEPARTMENTS: tuple[str, ...] = (
    "Sở Tư pháp",
    "Sở Kế hoạch và Đầu tư",
    "Sở Tài chính",
    "Sở Công Thương",
    "Sở Nông nghiệp và Phát triển nông thôn",
    "Sở Giao thông vận tải",
    "Sở Xây dựng",
    "Sở Tài nguyên và Môi trường",
    "Sở Thông tin và Truyền thông",
    "Sở Lao động - Thương binh và Xã hội",
    "Sở Văn hóa, Thể thao và Du lịch",
    "Sở Khoa học và Công nghệ",
    "Sở Giáo dục và Đào tạo",
    "Sở Y tế",
    "Sở Nội vụ",
    "Thanh tra",
    "Ban Dân tộc",
    "Sở Ngoại vụ",
    "Ban Quản lý các khu công nghiệp",
    "Sở Du lịch",
)

# Departments after the 2025 merger of ministries and departments.
DEPARTMENTS_2025: tuple[str, ...] = (
    "Sở Tư pháp",
    "Sở Tài chính",
    "Sở Công Thương",
    "Sở Nông nghiệp và Môi trường",
    "Sở Xây dựng",
    "Sở Khoa học và Công nghệ",
    "Sở Nội vụ",
    "Sở Văn hóa, Thể thao và Du lịch",
    "Sở Giáo dục và Đào tạo",
    "Sở Y tế",
    "Thanh tra",
    "Sở Dân tộc và Tôn giáo",
    "Sở Ngoại vụ",
    "Ban Quản lý các khu công nghiệp",
)

# Procedures named as a whole, with their field (lĩnh vực) code shaped like the national
# catalogue's: G09-TP01 civil status, G13-DD01 land, G04-KH01 enterprises...
STANDALONE_PROCEDURES: tuple[tuple[str, str], ...] = (
    ("Đăng ký khai sinh", "G09-TP01"),
    ("Đăng ký kết hôn", "G09-TP01"),
    ("Đăng ký khai tử", "G09-TP01"),
    ("Đăng ký thường trú", "G09-TP01"),
    ("Đăng ký nhận cha, mẹ, con", "G09-TP01"),
    ("Cấp bản sao trích lục hộ tịch", "G09-TP01"),
    ("Cấp Giấy xác nhận tình trạng hôn nhân", "G09-TP01"),
    ("Thay đổi, cải chính, bổ sung thông tin hộ tịch", "G09-TP01"),
    ("Chứng thực bản sao từ bản chính", "G09-TP02"),
    ("Chứng thực chữ ký trong các giấy tờ, văn bản", "G09-TP02"),
    ("Chứng thực hợp đồng, giao dịch", "G09-TP02"),
    ("Đăng ký biến động quyền sử dụng đất", "G13-DD01"),
    ("Đăng ký thế chấp quyền sử dụng đất", "G13-DD01"),
    ("Chuyển mục đích sử dụng đất", "G13-DD01"),
    ("Tách thửa hoặc hợp thửa đất", "G13-DD01"),
    ("Đăng ký thành lập hộ kinh doanh", "G04-KH02"),
    ("Đăng ký thay đổi nội dung đăng ký hộ kinh doanh", "G04-KH02"),
    ("Đăng ký thành lập doanh nghiệp", "G04-KH01"),
    ("Đăng ký thay đổi nội dung đăng ký doanh nghiệp", "G04-KH01"),
    ("Trợ cấp xã hội hằng tháng", "G17-LD02"),
    ("Hỗ trợ chi phí mai táng", "G17-LD02"),
    ("Đăng ký hoạt động cơ sở trợ giúp xã hội", "G17-LD02"),
    ("Giải quyết trợ cấp thất nghiệp", "G17-LD01"),
    ("Xét tuyển sinh vào trường trung học cơ sở", "G08-GD01"),
    ("Chuyển trường đối với học sinh trung học", "G08-GD01"),
    ("Đăng ký tổ chức lễ hội", "G16-VH01"),
    ("Xác nhận kế hoạch bảo vệ môi trường", "G10-MT01"),
    ("Đăng ký kiểm dịch động vật vận chuyển ra khỏi địa bàn", "G14-NN01"),
)

# Permit and certificate objects; each combines with every action below.
PROCEDURE_OBJECTS: tuple[tuple[str, str], ...] = (
    ("giấy phép xây dựng nhà ở riêng lẻ", "G11-XD01"),
    ("giấy phép xây dựng công trình", "G11-XD01"),
    ("chứng chỉ hành nghề hoạt động xây dựng", "G11-XD01"),
    ("Giấy chứng nhận quyền sử dụng đất", "G13-DD01"),
    ("giấy phép kinh doanh bán lẻ rượu", "G06-CT01"),
    ("giấy phép bán lẻ sản phẩm thuốc lá", "G06-CT01"),
    ("giấy chứng nhận đủ điều kiện cửa hàng bán lẻ xăng dầu", "G06-CT01"),
    ("chứng chỉ hành nghề dược", "G12-YT01"),
    ("giấy chứng nhận đủ điều kiện kinh doanh dược", "G12-YT01"),
    ("giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm", "G12-YT02"),
    ("giấy phép lái xe", "G15-GT01"),
    ("giấy phép liên vận", "G15-GT01"),
    ("phù hiệu xe ô tô kinh doanh vận tải", "G15-GT01"),
    ("giấy phép lao động cho người nước ngoài", "G17-LD01"),
    ("giấy phép hoạt động dịch vụ việc làm", "G17-LD01"),
    ("giấy phép thành lập trung tâm ngoại ngữ, tin học", "G08-GD01"),
    ("giấy phép hoạt động karaoke", "G16-VH01"),
    ("giấy phép tổ chức biểu diễn nghệ thuật", "G16-VH01"),
    ("giấy phép môi trường", "G10-MT01"),
    ("giấy phép khai thác nước dưới đất", "G10-MT01"),
    ("giấy chứng nhận đủ điều kiện vệ sinh thú y", "G14-NN01"),
    ("giấy chứng nhận đăng ký hợp tác xã", "G04-KH01"),
    ("giấy phép kinh doanh vận tải bằng xe ô tô", "G15-GT01"),
    ("giấy phép quảng cáo", "G16-VH01"),
    ("giấy phép hoạt động khám bệnh, chữa bệnh", "G12-YT01"),
    ("giấy chứng nhận kinh doanh khí", "G06-CT01"),
    ("giấy phép sử dụng vật liệu nổ công nghiệp", "G06-CT01"),
    ("giấy chứng nhận cơ sở đủ điều kiện buôn bán thuốc thú y", "G14-NN01"),
    ("giấy xác nhận đăng ký hoạt động giáo dục nghề nghiệp", "G17-LD01"),
    ("giấy phép thành lập cơ sở bảo trợ xã hội", "G17-LD02"),
)
PROCEDURE_ACTIONS: tuple[str, ...] = (
    "Cấp", "Cấp lại", "Gia hạn", "Điều chỉnh", "Cấp đổi", "Thu hồi", "Sửa đổi, bổ sung",
)

FEE_NAMES: tuple[str, ...] = ("Lệ phí", "Phí thẩm định")

# Applicant names (fake). Parallel ASCII spellings build believable e-mail addresses.
FAMILY_NAMES: tuple[str, ...] = (
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
    "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Lương", "Trịnh", "Mai",
)
MIDDLE_NAMES: tuple[str, ...] = (
    "Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc", "Thanh", "Quang", "Thu", "Xuân",
    "Hoài", "Kim", "Gia", "Bảo", "Phương",
)
GIVEN_NAMES: tuple[str, ...] = (
    "An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa",
    "Hùng", "Hương", "Khánh", "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Ngân",
    "Phong", "Phúc", "Quân", "Quỳnh", "Sơn", "Tâm", "Thảo", "Thắng", "Trang", "Trung",
    "Tuấn", "Uyên", "Việt", "Vy", "Yến",
)
# The first digits of Vietnamese mobile numbers after the leading 0.
MOBILE_PREFIXES: tuple[str, ...] = ("32", "33", "34", "35", "36", "37", "38", "39", "56",
                                    "58", "70", "76", "77", "78", "79", "81", "82", "83",
                                    "84", "85", "86", "88", "89", "90", "91", "93", "94",
                                    "96", "97", "98")
