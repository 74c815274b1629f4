/* check_grammar.c: SMS keywords and Vietnamese folding. */

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "grammar.h"
#include "util.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Valid tickets (as 004's formula gave for 1..3) and a bad one. */
#define T1  "KV7R48R"
#define T2  "2DQC6CH"
#define T3  "FX7Y8GV"
#define BAD "KV7R48Q"

/* NFD spellings: "Phản ánh", "đường hỏng". */
#define NFD_PHAN_ANH "Pha\xcc\x89n a\xcc\x81nh"
#define NFD_DUONG    "\xc4\x91u\xcc\x9bo\xcc\x9b\xcc\x80ng ho\xcc\x89ng"

static const struct {
	const char *in;
	enum cmd_kind kind;
	int keyword;
	const char *ticket;
	int ticket_ok;
	const char *unit;
	int rating;
	const char *text;
} parse_cases[] = {
    /* Complaints, with and without diacritics, any case and spacing. */
    {"Phản ánh: đường hỏng", CMD_COMPLAINT, 1, "", 0, "", 0, "đường hỏng"},
    {"PHAN ANH duong hong", CMD_COMPLAINT, 1, "", 0, "", 0, "duong hong"},
    {"phan anh", CMD_COMPLAINT, 1, "", 0, "", 0, ""},
    {"pa đường hỏng", CMD_COMPLAINT, 1, "", 0, "", 0, "đường hỏng"},
    {"PA: đường hỏng", CMD_COMPLAINT, 1, "", 0, "", 0, "đường hỏng"},
    {"Pa.đường hỏng", CMD_COMPLAINT, 1, "", 0, "", 0, "đường hỏng"},
    {"pA\tđường", CMD_COMPLAINT, 1, "", 0, "", 0, "đường"},
    {"PHẢN ÁNH - đường hỏng", CMD_COMPLAINT, 1, "", 0, "", 0, "đường hỏng"},
    {"  \t pA \n\n  đường hỏng  \n", CMD_COMPLAINT, 1, "", 0, "", 0,
     "đường hỏng"},
    {"Phản ánh\n\nđường\nhỏng", CMD_COMPLAINT, 1, "", 0, "", 0, "đường\nhỏng"},
    {"phananh đường", CMD_COMPLAINT, 1, "", 0, "", 0, "đường"},
    {"Phản   ánh,,, đường", CMD_COMPLAINT, 1, "", 0, "", 0, "đường"},
    {NFD_PHAN_ANH ": " NFD_DUONG, CMD_COMPLAINT, 1, "", 0, "", 0, NFD_DUONG},
    {"Góp ý: nên trồng cây", CMD_COMPLAINT, 1, "", 0, "", 0, "nên trồng cây"},
    {"GÓP Ý", CMD_COMPLAINT, 1, "", 0, "", 0, ""},
    {"GY nen trong cay", CMD_COMPLAINT, 1, "", 0, "", 0, "nen trong cay"},
    {"gopy: cây", CMD_COMPLAINT, 1, "", 0, "", 0, "cây"},
    {"Kiến nghị: mở lớp học", CMD_COMPLAINT, 1, "", 0, "", 0, "mở lớp học"},
    {"KN mo lop", CMD_COMPLAINT, 1, "", 0, "", 0, "mo lop"},
    {"PA #0101 đèn đường hỏng", CMD_COMPLAINT, 1, "", 0, "0101", 0,
     "#0101 đèn đường hỏng"},
    {"PA#0101 đèn hỏng", CMD_COMPLAINT, 1, "", 0, "0101", 0, "#0101 đèn hỏng"},
    /* Bare text is a complaint; PA must be a whole word. */
    {"Đường hỏng", CMD_COMPLAINT, 0, "", 0, "", 0, "Đường hỏng"},
    {"  Đường hỏng\n", CMD_COMPLAINT, 0, "", 0, "", 0, "Đường hỏng"},
    {"Pano quảng cáo che biển", CMD_COMPLAINT, 0, "", 0, "", 0,
     "Pano quảng cáo che biển"},
    {"Pa-nô quảng cáo", CMD_COMPLAINT, 0, "", 0, "", 0, "Pa-nô quảng cáo"},
    {"PAN", CMD_COMPLAINT, 0, "", 0, "", 0, "PAN"},
    {"Pađ", CMD_COMPLAINT, 0, "", 0, "", 0, "Pađ"},
    {"Đèn hỏng @7 và @123", CMD_COMPLAINT, 0, "", 0, "123", 0,
     "Đèn hỏng @7 và @123"},
    {"gửi a@123", CMD_COMPLAINT, 0, "", 0, "", 0, "gửi a@123"},
    {"Nhà 123456 bị ngập", CMD_COMPLAINT, 0, "", 0, "", 0,
     "Nhà 123456 bị ngập"},
    {"#12345678901 ngập", CMD_COMPLAINT, 0, "", 0, "", 0, "#12345678901 ngập"},
    {"7", CMD_COMPLAINT, 0, "", 0, "", 0, "7"},
    {"0", CMD_COMPLAINT, 0, "", 0, "", 0, "0"},
    {"#5", CMD_COMPLAINT, 0, "", 0, "", 0, "#5"},
    {"12345678901", CMD_COMPLAINT, 0, "", 0, "", 0, "12345678901"},
    {"...", CMD_COMPLAINT, 0, "", 0, "", 0, "..."},
    /* Status. */
    {"TT " T1, CMD_STATUS, 1, T1, 1, "", 0, ""},
    {"tt kv7r-48r", CMD_STATUS, 1, T1, 1, "", 0, ""},
    {"Tra cứu: KV7 R48R", CMD_STATUS, 1, T1, 1, "", 0, ""},
    {"tra  cuu\t2dqc 6ch.", CMD_STATUS, 1, T2, 1, "", 0, ""},
    {"TRACUU " BAD, CMD_STATUS, 1, BAD, 0, "", 0, ""},
    {"TT " T1 " cảm ơn", CMD_STATUS, 1, T1, 1, "", 0, "cảm ơn"},
    {"TT", CMD_STATUS, 1, "", 0, "", 0, ""},
    {"TT K", CMD_STATUS, 1, "K", 0, "", 0, ""},
    {"TT KV7R48RX", CMD_STATUS, 1, "KV7R48RX", 0, "", 0, ""},
    {"TTT " T1, CMD_COMPLAINT, 0, "", 0, "", 0, "TTT " T1},
    {"TT Phú Xuyên đường hỏng", CMD_COMPLAINT, 0, "", 0, "", 0,
     "TT Phú Xuyên đường hỏng"},
    /* Register. */
    {"ĐK 12345", CMD_REGISTER, 1, "", 0, "12345", 0, ""},
    {"\xc3\x90k 12345", CMD_REGISTER, 1, "", 0, "12345", 0, ""},
    {"Đăng ký #12345", CMD_REGISTER, 1, "", 0, "12345", 0, ""},
    {"dang ki @0101", CMD_REGISTER, 1, "", 0, "0101", 0, ""},
    {"DANGKY 0101.", CMD_REGISTER, 1, "", 0, "0101", 0, ""},
    {"DK", CMD_REGISTER, 1, "", 0, "", 0, ""},
    {"Đăng ký kết hôn bị chậm", CMD_COMPLAINT, 0, "", 0, "", 0,
     "Đăng ký kết hôn bị chậm"},
    {"Đăng ký 15 ngày chưa xong", CMD_COMPLAINT, 0, "", 0, "", 0,
     "Đăng ký 15 ngày chưa xong"},
    /* Withdraw. */
    {"HỦY " T1, CMD_WITHDRAW, 1, T1, 1, "", 0, ""},
    {"Huỷ kv7r48r", CMD_WITHDRAW, 1, T1, 1, "", 0, ""},
    {"huy", CMD_WITHDRAW, 1, "", 0, "", 0, ""},
    {"Hủy hoại rừng phòng hộ", CMD_COMPLAINT, 0, "", 0, "", 0,
     "Hủy hoại rừng phòng hộ"},
    /* Help and stop, only when nothing else is said. */
    {"HD", CMD_HELP, 1, "", 0, "", 0, ""},
    {"hd.", CMD_HELP, 1, "", 0, "", 0, ""},
    {"Hướng dẫn", CMD_HELP, 1, "", 0, "", 0, ""},
    {"help", CMD_HELP, 1, "", 0, "", 0, ""},
    {"?", CMD_HELP, 1, "", 0, "", 0, ""},
    {" ?? ", CMD_HELP, 1, "", 0, "", 0, ""},
    {"Hướng dẫn làm sổ đỏ quá khó", CMD_COMPLAINT, 0, "", 0, "", 0,
     "Hướng dẫn làm sổ đỏ quá khó"},
    {"TỪ CHỐI", CMD_STOP, 1, "", 0, "", 0, ""},
    {"tuchoi", CMD_STOP, 1, "", 0, "", 0, ""},
    {"Stop!", CMD_STOP, 1, "", 0, "", 0, ""},
    {"Từ chối tiếp dân", CMD_COMPLAINT, 0, "", 0, "", 0, "Từ chối tiếp dân"},
    /* Ratings. */
    {"DG " T1 " 5", CMD_RATE, 1, T1, 1, "", 5, ""},
    {"Đánh giá " T1 ": 4 sao", CMD_RATE, 1, T1, 1, "", 4, "sao"},
    {"danh gia kv7 r48r 1", CMD_RATE, 1, T1, 1, "", 1, ""},
    {"DG " T1, CMD_RATE, 1, T1, 1, "", 0, ""},
    {"DG " T1 " 9", CMD_RATE, 1, T1, 1, "", 0, "9"},
    {"DG " T1 " 55", CMD_RATE, 1, T1, 1, "", 0, "55"},
    {"DG " BAD " 3", CMD_RATE, 1, BAD, 0, "", 3, ""},
    {"DG 5", CMD_RATE, 1, "", 0, "", 5, ""},
    {"DG", CMD_RATE, 1, "", 0, "", 0, ""},
    {"Đánh giá cán bộ xã thái độ kém", CMD_COMPLAINT, 0, "", 0, "", 0,
     "Đánh giá cán bộ xã thái độ kém"},
    /* Officials. */
    {"TL " T1 " Đã sửa xong đường", CMD_ANSWER, 1, T1, 1, "", 0,
     "Đã sửa xong đường"},
    {"tl: kv7r48r - đã xử lý", CMD_ANSWER, 1, T1, 1, "", 0, "đã xử lý"},
    {"TL " BAD " xong", CMD_ANSWER, 1, BAD, 0, "", 0, "xong"},
    {"TL", CMD_ANSWER, 1, "", 0, "", 0, ""},
    {"CT " T3 " 00123 Thuộc thẩm quyền huyện", CMD_TRANSFER, 1, T3, 1, "00123",
     0, "Thuộc thẩm quyền huyện"},
    {"ct " T3 " #00123: sai đơn vị", CMD_TRANSFER, 1, T3, 1, "00123", 0,
     "sai đơn vị"},
    {"CT " T3 " sai đơn vị", CMD_TRANSFER, 1, T3, 1, "", 0, "sai đơn vị"},
    {"CT " T3 " 00004-TYT Thuộc trạm y tế", CMD_TRANSFER, 1, T3, 1, "00004-tyt",
     0, "Thuộc trạm y tế"},
    /* Officials' clock commands (016): THU LY accepts, HEN apologises
     * with a new date; without a date "hẹn" is prose. */
    {"THU LY " T1, CMD_ACCEPT, 1, T1, 1, "", 0, ""},
    {"thụ lý " T1, CMD_ACCEPT, 1, T1, 1, "", 0, ""},
    {"Thu ly don cua toi bao gio xong", CMD_COMPLAINT, 0, "", 0, "", 0,
     "Thu ly don cua toi bao gio xong"},
    {"HEN " T1 " 25/12 Thiếu hồ sơ", CMD_APOLOGIZE, 1, T1, 1, "", 0,
     "25/12 Thiếu hồ sơ"},
    {"hẹn " T1 " 5-1-2027: chờ đo đạc", CMD_APOLOGIZE, 1, T1, 1, "", 0,
     "5-1-2027: chờ đo đạc"},
    {"Hẹn mai hẹn mốt mãi không làm", CMD_COMPLAINT, 0, "", 0, "", 0,
     "Hẹn mai hẹn mốt mãi không làm"},
    {"Hẹn 3 lần rồi", CMD_COMPLAINT, 0, "", 0, "", 0, "Hẹn 3 lần rồi"},
    {"HEN " T1 " 25/12abc", CMD_COMPLAINT, 0, "", 0, "", 0,
     "HEN " T1 " 25/12abc"},
    {"BC", CMD_REPORT, 1, "", 0, "", 0, ""},
    {"báo cáo", CMD_REPORT, 1, "", 0, "", 0, ""},
    /* Issue 14: opt back in, officials' DS, XEM, GH, TC, BC TAT/BAT. */
    {"START", CMD_START, 1, "", 0, "", 0, ""},
    {"Đăng ký lại", CMD_START, 1, "", 0, "", 0, ""},
    {"DANG KY LAI", CMD_START, 1, "", 0, "", 0, ""},
    {"dk lai.", CMD_START, 1, "", 0, "", 0, ""},
    {"Đăng ký lại hộ khẩu cho con", CMD_COMPLAINT, 0, "", 0, "", 0,
     "Đăng ký lại hộ khẩu cho con"},
    {"DK 12345", CMD_REGISTER, 1, "", 0, "12345", 0, ""},
    {"DS", CMD_LIST, 1, "", 0, "", 0, ""},
    {"ds 2", CMD_LIST, 1, "", 0, "", 0, ""},
    {"Danh sách hộ nghèo không công khai", CMD_COMPLAINT, 0, "", 0, "", 0,
     "Danh sách hộ nghèo không công khai"},
    {"XEM " T1, CMD_SHOW, 1, T1, 1, "", 0, ""},
    {"xem kv7r-48r", CMD_SHOW, 1, T1, 1, "", 0, ""},
    {"Xem giúp tôi đường này", CMD_COMPLAINT, 0, "", 0, "", 0,
     "Xem giúp tôi đường này"},
    {"GH " T1 " 5 cần khảo sát thêm", CMD_EXTEND, 1, T1, 1, "", 0,
     "cần khảo sát thêm"},
    {"gh " T1 " cần khảo sát", CMD_EXTEND, 1, T1, 1, "", 0, "cần khảo sát"},
    {"TC " T2 " không thuộc thẩm quyền xã", CMD_RETURN, 1, T2, 1, "", 0,
     "không thuộc thẩm quyền xã"},
    {"BC TAT", CMD_SUMMARY, 1, "", 0, "", 0, ""},
    {"bc bật", CMD_SUMMARY, 1, "", 0, "", 0, ""},
    {"Báo cáo sai sự thật", CMD_COMPLAINT, 0, "", 0, "", 0,
     "Báo cáo sai sự thật"},
    /* Keywords typed with Telex or VNI habits, PAKN, dotted. */
    {"ddk 12345", CMD_REGISTER, 1, "", 0, "12345", 0, ""},
    {"DDK 12345", CMD_REGISTER, 1, "", 0, "12345", 0, ""},
    {"Đ.K 12345", CMD_REGISTER, 1, "", 0, "12345", 0, ""},
    {"d.k. 12345", CMD_REGISTER, 1, "", 0, "12345", 0, ""},
    {"d9k 12345", CMD_REGISTER, 1, "", 0, "12345", 0, ""},
    {"ddawng kys 12345", CMD_REGISTER, 1, "", 0, "12345", 0, ""},
    {"d9a8ng ky1 12345", CMD_REGISTER, 1, "", 0, "12345", 0, ""},
    {"dk12345", CMD_COMPLAINT, 0, "", 0, "", 0, "dk12345"},
    {"phanr anhs dduwowngf hongr", CMD_COMPLAINT, 1, "", 0, "", 0,
     "dduwowngf hongr"},
    {"pha3n a1nh: đường hỏng", CMD_COMPLAINT, 1, "", 0, "", 0, "đường hỏng"},
    {"PAKN đường hỏng", CMD_COMPLAINT, 1, "", 0, "", 0, "đường hỏng"},
    {"pakn: đường hỏng", CMD_COMPLAINT, 1, "", 0, "", 0, "đường hỏng"},
    {"Phản ánh kiến nghị: đường hỏng", CMD_COMPLAINT, 1, "", 0, "", 0,
     "đường hỏng"},
    {"P.A đường hỏng", CMD_COMPLAINT, 1, "", 0, "", 0, "đường hỏng"},
    {"kieens nghij mowr lowps", CMD_COMPLAINT, 1, "", 0, "", 0, "mowr lowps"},
    {"kie6n nghi5 mo73 lo71p", CMD_COMPLAINT, 1, "", 0, "", 0, "mo73 lo71p"},
    {"gops ys: cây", CMD_COMPLAINT, 1, "", 0, "", 0, "cây"},
    {"trar cuwus " T1, CMD_STATUS, 1, T1, 1, "", 0, ""},
    {"tuwf chooir", CMD_STOP, 1, "", 0, "", 0, ""},
    {"huwowngs daanx", CMD_HELP, 1, "", 0, "", 0, ""},
    {"ddanhs gias " T2 " 5", CMD_RATE, 1, T2, 1, "", 5, ""},
    {"Pass wifi nhà văn hóa", CMD_COMPLAINT, 0, "", 0, "", 0,
     "Pass wifi nhà văn hóa"},
    {"dg5", CMD_COMPLAINT, 0, "", 0, "", 0, "dg5"},
    /* Codes, digits, nothing. */
    {"12345", CMD_CODE, 0, "", 0, "12345", 0, ""},
    {" #12345 ", CMD_CODE, 0, "", 0, "12345", 0, ""},
    {"@12", CMD_CODE, 0, "", 0, "12", 0, ""},
    {"1234567890", CMD_CODE, 0, "", 0, "1234567890", 0, ""},
    {"3", CMD_DIGIT, 0, "", 0, "", 3, ""},
    {" 5 \n", CMD_DIGIT, 0, "", 0, "", 5, ""},
    {"1.", CMD_DIGIT, 0, "", 0, "", 1, ""},
    {"", CMD_EMPTY, 0, "", 0, "", 0, ""},
    {"  \t\r\n ", CMD_EMPTY, 0, "", 0, "", 0, ""},
};

static const struct {
	const char *in;
	const char *out;
} fold_cases[] = {
    {"Đường Hỏng", "duong hong"},
    {"ĐẮK LẮK", "dak lak"},
    {"Phản ánh", "phan anh"},
    {NFD_PHAN_ANH, "phan anh"},
    {NFD_DUONG, "duong hong"},
    {"Ơ ơ Ư ư Ă ă Â â Ê ê Ô ô Đ đ", "o o u u a a a a e e o o d d"},
    {"àáảãạ ằắẳẵặ ầấẩẫậ", "aaaaa aaaaa aaaaa"},
    {"èéẻẽẹ ềếểễệ ìíỉĩị", "eeeee eeeee iiiii"},
    {"òóỏõọ ồốổỗộ ờớởỡợ", "ooooo ooooo ooooo"},
    {"ùúủũụ ừứửữự ỳýỷỹỵ", "uuuuu uuuuu yyyyy"},
    {"ÀÁẢÃẠ ỲÝỶỸỴ ỪỨỬỮỰ", "aaaaa yyyyy uuuuu"},
    {"\xc3\x90\xc3\xb0", "dd"},
    {"HELLO, World! 123", "hello, world! 123"},
    {"ß Æ × 日本 Привет", "ß Æ × 日本 Привет"},
    {"😀 €", "😀 €"},
    {"", ""},
    {"a\xcc\x81\xcc\x81\xcc\x81", "a"},
    {"\xcc\x81x", "x"},
};

/* Parse each table entry. */
START_TEST(test_parse)
{
	struct sms_cmd cmd;
	char *folded;

	ck_assert_int_eq(grammar_parse(parse_cases[_i].in, &cmd), 0);
	ck_assert_msg(cmd.kind == parse_cases[_i].kind, "'%s': kind %d",
	              parse_cases[_i].in, cmd.kind);
	ck_assert_int_eq(cmd.keyword, parse_cases[_i].keyword);
	ck_assert_str_eq(cmd.ticket, parse_cases[_i].ticket);
	ck_assert_int_eq(cmd.ticket_ok, parse_cases[_i].ticket_ok);
	ck_assert_str_eq(cmd.unit, parse_cases[_i].unit);
	ck_assert_int_eq(cmd.rating, parse_cases[_i].rating);
	ck_assert_str_eq(cmd.text, parse_cases[_i].text);
	folded = grammar_fold(cmd.text);
	ck_assert_str_eq(cmd.folded, folded);
	free(folded);
	sms_cmd_clear(&cmd);
	ck_assert_ptr_null(cmd.text);
}
END_TEST

/* Fold each table entry. */
START_TEST(test_fold)
{
	char *out = grammar_fold(fold_cases[_i].in);

	ck_assert_str_eq(out, fold_cases[_i].out);
	free(out);
}
END_TEST

/* Append code point cp to b as UTF-8. */
static void
put_cp(struct buf *b, uint32_t cp)
{
	if (cp < 0x800) {
		buf_addc(b, (char)(0xc0 | cp >> 6));
	} else {
		buf_addc(b, (char)(0xe0 | cp >> 12));
		buf_addc(b, (char)(0x80 | (cp >> 6 & 0x3f)));
	}
	buf_addc(b, (char)(0x80 | (cp & 0x3f)));
}

/* Every letter of the Vietnamese block folds to one of a e i o u y, and
 * every letter of Latin-1 and Latin Extended-A/B to one ASCII letter or
 * to itself. */
START_TEST(test_fold_blocks)
{
	struct buf b;
	uint32_t cp;
	char *out;

	for (cp = 0xc0; cp <= 0x24f || (cp >= 0x1ea0 && cp <= 0x1ef9);
	     cp = cp == 0x24f ? 0x1ea0 : cp + 1) {
		buf_init(&b);
		put_cp(&b, cp);
		out = grammar_fold(b.data);
		if (cp >= 0x1ea0)
			ck_assert_msg(strlen(out) == 1 &&
			                  strchr("aeiouy", *out),
			              "U+%04X -> %s", cp, out);
		else
			ck_assert_msg(
			    (strlen(out) == 1 && *out >= 'a' && *out <= 'z') ||
			        strcmp(out, b.data) == 0,
			    "U+%04X -> %s", cp, out);
		free(out);
		buf_clear(&b);
	}
}
END_TEST

/* Long input: a 1000-character complaint, long runs of what scanners
 * loop over, and malformed bytes (the caller validates, but no crash). */
START_TEST(test_long)
{
	struct sms_cmd cmd;
	struct buf b;
	int i;

	buf_init(&b);
	buf_adds(&b, "PA ");
	for (i = 0; i < 1000; i++)
		buf_adds(&b, "đ");
	grammar_parse(b.data, &cmd);
	ck_assert_int_eq(cmd.kind, CMD_COMPLAINT);
	ck_assert_int_eq(cmd.keyword, 1);
	ck_assert_uint_eq(strlen(cmd.text), 2000);
	ck_assert_uint_eq(strlen(cmd.folded), 1000);
	sms_cmd_clear(&cmd);
	buf_clear(&b);

	buf_init(&b);
	buf_adds(&b, "TT ");
	for (i = 0; i < 100000; i++)
		buf_adds(&b, i % 2 ? "-" : "#1 ");
	grammar_parse(b.data, &cmd);
	ck_assert_int_eq(cmd.kind, CMD_COMPLAINT);
	sms_cmd_clear(&cmd);
	buf_clear(&b);

	grammar_parse("PA \xff\xfe\xc3 \xe1\xbb", &cmd);
	ck_assert_int_eq(cmd.kind, CMD_COMPLAINT);
	ck_assert_str_eq(cmd.text, "\xff\xfe\xc3 \xe1\xbb");
	sms_cmd_clear(&cmd);
}
END_TEST

/* The number some commands carry: page, days, on/off. */
START_TEST(test_number)
{
	static const struct {
		const char *in;
		enum cmd_kind kind;
		int number;
	} cases[] = {
	    {"DS", CMD_LIST, 0},
	    {"DS 2", CMD_LIST, 2},
	    {"ds: 12", CMD_LIST, 12},
	    {"GH " T1 " 5 ly do", CMD_EXTEND, 5},
	    {"GH " T1 " ly do", CMD_EXTEND, 0},
	    {"BC TAT", CMD_SUMMARY, 0},
	    {"BC BAT", CMD_SUMMARY, 1},
	    {"DS 2x", CMD_COMPLAINT, 0},
	    {"DG " T1 " 4", CMD_RATE, 0},
	};
	struct sms_cmd cmd;

	for (size_t i = 0; i < LEN(cases); i++) {
		grammar_parse(cases[i].in, &cmd);
		ck_assert_msg(cmd.kind == cases[i].kind, "%s: kind %d, want %d",
		              cases[i].in, cmd.kind, cases[i].kind);
		ck_assert_msg(cmd.number == cases[i].number,
		              "%s: number %d, want %d", cases[i].in, cmd.number,
		              cases[i].number);
		sms_cmd_clear(&cmd);
	}
}
END_TEST

/* NULL parses as empty; grammar_complaint turns TL into a complaint. */
START_TEST(test_null_and_complaint)
{
	struct sms_cmd cmd;
	char *s;

	grammar_parse(NULL, &cmd);
	ck_assert_int_eq(cmd.kind, CMD_EMPTY);
	ck_assert_str_eq(cmd.text, "");
	sms_cmd_clear(&cmd);

	grammar_parse(" TL 295 sạt lở #0101 ", &cmd);
	ck_assert_int_eq(cmd.kind, CMD_ANSWER);
	grammar_complaint(" TL 295 sạt lở #0101 ", &cmd);
	ck_assert_int_eq(cmd.kind, CMD_COMPLAINT);
	ck_assert_int_eq(cmd.keyword, 0);
	ck_assert_str_eq(cmd.text, "TL 295 sạt lở #0101");
	ck_assert_str_eq(cmd.folded, "tl 295 sat lo #0101");
	ck_assert_str_eq(cmd.unit, "0101");
	ck_assert_str_eq(cmd.ticket, "");
	sms_cmd_clear(&cmd);

	s = grammar_fold(NULL);
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

/* The decoder reports malformed bytes one at a time as U+FFFD. */
/* Survey answers: a digit anywhere, C/K answers in order; anything more
 * is a complaint as before. */
static const struct {
	const char *in;
	enum cmd_kind kind;
	int rating;
	const char *answers;
} survey_cases[] = {
    {"5 C K", CMD_SURVEY, 5, "CK"},
    {"5ck", CMD_SURVEY, 5, "CK"},
    {"CK5", CMD_SURVEY, 5, "CK"},
    {"c,k 2", CMD_SURVEY, 2, "CK"},
    {"K C 1", CMD_SURVEY, 1, "KC"},
    {"Có không 4", CMD_SURVEY, 4, "CK"},
    {"co ko 3", CMD_SURVEY, 3, "CK"},
    {"KHÔNG, CÓ", CMD_SURVEY, 0, "KC"},
    {"C", CMD_SURVEY, 0, "C"},
    {" k. ", CMD_SURVEY, 0, "K"},
    {"4 c", CMD_SURVEY, 4, "C"},
    {"5", CMD_DIGIT, 5, ""},
    {"5 C K C", CMD_COMPLAINT, 0, ""},
    {"5 6 C", CMD_COMPLAINT, 0, ""},
    {"5 4 C", CMD_COMPLAINT, 0, ""},
    {"6 C K", CMD_COMPLAINT, 0, ""},
    {"co dien khong", CMD_COMPLAINT, 0, ""},
    {"TT 5 C", CMD_COMPLAINT, 0, ""},
    {"kn", CMD_COMPLAINT, 0, ""},
    {"ck", CMD_SURVEY, 0, "CK"},
};

START_TEST(test_survey)
{
	struct sms_cmd cmd;

	for (size_t i = 0; i < LEN(survey_cases); i++) {
		grammar_parse(survey_cases[i].in, &cmd);
		ck_assert_msg(cmd.kind == survey_cases[i].kind,
		              "\"%s\": kind %d, want %d", survey_cases[i].in,
		              cmd.kind, survey_cases[i].kind);
		if (cmd.kind == CMD_SURVEY) {
			ck_assert_int_eq(cmd.rating, survey_cases[i].rating);
			ck_assert_str_eq(cmd.answers, survey_cases[i].answers);
			ck_assert_str_eq(cmd.ticket, "");
		}
		sms_cmd_clear(&cmd);
	}
}
END_TEST

START_TEST(test_utf8_next)
{
	static const struct {
		const char *s;
		size_t n;
		uint32_t cp;
	} c[] = {
	    {"", 0, 0},
	    {"a", 1, 'a'},
	    {"đ", 2, 0x111},
	    {"ệ", 3, 0x1ec7},
	    {"😀", 4, 0x1f600},
	    {"\xc0\x80", 1, 0xfffd},         /* overlong */
	    {"\xed\xa0\x80", 1, 0xfffd},     /* surrogate */
	    {"\xf4\x90\x80\x80", 1, 0xfffd}, /* above U+10FFFF */
	    {"\xe1\xbb", 1, 0xfffd},         /* truncated */
	    {"\x80", 1, 0xfffd},
	};
	size_t i;
	uint32_t cp;

	for (i = 0; i < LEN(c); i++) {
		ck_assert_uint_eq(grammar_utf8_next(c[i].s, &cp), c[i].n);
		ck_assert_uint_eq(cp, c[i].cp);
	}
}
END_TEST

/* Build the suite. */
static Suite *
grammar_suite(void)
{
	Suite *s = suite_create("grammar");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_parse, 0, LEN(parse_cases));
	tcase_add_loop_test(tc, test_fold, 0, LEN(fold_cases));
	tcase_add_test(tc, test_fold_blocks);
	tcase_add_test(tc, test_long);
	tcase_add_test(tc, test_null_and_complaint);
	tcase_add_test(tc, test_number);
	tcase_add_test(tc, test_utf8_next);
	tcase_add_test(tc, test_survey);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite; exit non-zero on failure. */
int
main(void)
{
	SRunner *sr = srunner_create(grammar_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
