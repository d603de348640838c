"""Word lists for demo company names, in English with a Thai transliteration."""

PREFIXES = [
    ("Siam", "สยาม"), ("Thai", "ไทย"), ("Eastern", "อีสเทิร์น"), ("Asia", "เอเชีย"), ("Golden", "โกลเด้น"),
    ("Royal", "รอยัล"), ("Prime", "ไพรม์"), ("Star", "สตาร์"), ("Global", "โกลบอล"), ("United", "ยูไนเต็ด"),
    ("Pacific", "แปซิฟิก"), ("Delta", "เดลต้า"), ("Lotus", "โลตัส"), ("Orchid", "ออร์คิด"), ("Emerald", "เอมเมอรัลด์"),
    ("Chao Phraya", "เจ้าพระยา"), ("Mekong", "แม่โขง"), ("Andaman", "อันดามัน"), ("Lanna", "ล้านนา"), ("Sukhothai", "สุโขทัย"),
]  # fmt: skip
INDUSTRIES = [
    ("Chemical", "เคมีคอล"), ("Steel", "สตีล"), ("Plastics", "พลาสติก"), ("Auto Parts", "ออโต้พาร์ท"),
    ("Electronics", "อิเล็กทรอนิกส์"), ("Petrochemical", "ปิโตรเคมี"), ("Foods", "ฟู้ดส์"), ("Paper", "เปเปอร์"),
    ("Rubber", "รับเบอร์"), ("Glass", "กลาส"), ("Metal Works", "เมทัลเวิร์คส"), ("Polymer", "โพลิเมอร์"),
    ("Coatings", "โค้ทติ้งส์"), ("Textiles", "เท็กซ์ไทล์"), ("Pharma", "ฟาร์มา"), ("Battery", "แบตเตอรี่"),
]  # fmt: skip
RECEIVER_KINDS = {
    "101": ("Waste Treatment", "บำบัดของเสีย"),
    "105": ("Sorting and Landfill", "คัดแยกและฝังกลบ"),
    "106": ("Recycling", "รีไซเคิล"),
}
TRANSPORT = ("Logistics", "โลจิสติกส์")
FIRST_NAMES = ["สมชาย", "สมศักดิ์", "วิชัย", "ประเสริฐ", "อนันต์", "สุรชัย", "ธนพล", "กิตติ", "ชาญวิทย์", "ณัฐพงษ์",
               "บุญมี", "ประยูร", "สมพร", "วีระ", "อำนาจ"]  # fmt: skip
LAST_NAMES = ["ใจดี", "แสงทอง", "ศรีสุข", "บุญเรือง", "วงศ์ไทย", "สุขสวัสดิ์", "ทองคำ", "พรหมมา", "จันทร์เพ็ญ", "ศักดิ์ดี"]
PROVINCES_TH = {
    "Bangkok": "กรุงเทพมหานคร", "Samut Prakan": "สมุทรปราการ", "Samut Sakhon": "สมุทรสาคร", "Saraburi": "สระบุรี",
    "Chonburi": "ชลบุรี", "Rayong": "ระยอง", "Lamphun": "ลำพูน", "Phichit": "พิจิตร", "Songkhla": "สงขลา",
    "Sa Kaeo": "สระแก้ว", "Phra Nakhon Si Ayutthaya": "พระนครศรีอยุธยา", "Ratchaburi": "ราชบุรี",
    "Chachoengsao": "ฉะเชิงเทรา", "Prachinburi": "ปราจีนบุรี", "Nakhon Sawan": "นครสวรรค์",
}  # fmt: skip
