/* check_ussd.c: the USSD menu machine (input path -> screen), every
 * screen's length, and the JSON of states and contexts (ussd_session.c).
 * The gateways' USSD callback parsers are tested in check_gw.c. */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sms.h"
#include "ussd.h"
#include "ussd_cache.h"
#include "ussd_session.h"
#include "util.h"

#define LEN(a)  (sizeof(a) / sizeof((a)[0]))
#define TOKEN   "s3cret"
#define TICKET  "KV7R48R"
#define TICKET2 "2DQC6CH"

/* Worlds the menus are tried in (what the database would say). */
enum {
	F_HOME,      /* registered commune, an answered complaint, 2 open */
	F_NOHOME,    /* nothing registered, nothing filed */
	F_DIA,       /* as F_HOME, diacritics shown */
	F_LONG,      /* long labels and names: lists must page */
	F_LONG_DIA,  /* as F_LONG, diacritics shown */
	F_EMPTY_DIM, /* a dimension without categories, no services */
	NFIXTURES
};

static const struct fixture {
	const char *name;
	int diacritics, home, answered, open, long_labels, sparse;
} fixtures[NFIXTURES] = {
    [F_HOME] = {"home", 0, 1, 1, 1, 0, 0},
    [F_NOHOME] = {"nohome", 0, 0, 0, 0, 0, 0},
    [F_DIA] = {"diacritics", 1, 1, 1, 1, 0, 0},
    [F_LONG] = {"long", 0, 1, 1, 1, 1, 0},
    [F_LONG_DIA] = {"long-diacritics", 1, 0, 1, 1, 1, 0},
    [F_EMPTY_DIM] = {"sparse", 0, 1, 0, 0, 0, 1},
};

struct seed {
	const char *code, *label;
	int dim;
};

static const struct seed dims[] = {
    {"1", "Tham gia", 0},   {"2", "Minh bach", 0},  {"3", "Giai trinh", 0},
    {"4", "Tham nhung", 0}, {"5", "Thu tuc HC", 0}, {"6", "Dich vu cong", 0},
    {"7", "Moi truong", 0}, {"8", "Dien tu", 0},
};

/* The PAPI dimensions' full names: too long for one screen. */
static const struct seed long_dims[] = {
    {"1", "Tham gia của người dân ở cấp cơ sở", 0},
    {"2", "Công khai, minh bạch", 0},
    {"3", "Trách nhiệm giải trình với người dân", 0},
    {"4", "Kiểm soát tham nhũng trong khu vực công", 0},
    {"5", "Thủ tục hành chính công", 0},
    {"6", "Cung ứng dịch vụ công", 0},
    {"7", "Quản trị môi trường", 0},
    {"8", "Quản trị điện tử", 0},
};

static const struct seed cats[] = {
    {"meeting", "Họp dân, lấy ý kiến người dân", 1},
    {"contribution", "Đóng góp, huy động tiền của dân", 1},
    {"poverty_list", "Danh sách hộ nghèo", 2},
    {"land_plan", "Quy hoạch, kế hoạch sử dụng đất", 2},
    {"commune_budget", "Thu chi ngân sách xã", 2},
    {"official_conduct", "Thái độ, trách nhiệm cán bộ", 3},
    {"general", "Phản ánh chung", 3},
    {"corruption", "Tham nhũng, hối lộ, tiêu cực", 4},
    {"land_certificate", "Giấy chứng nhận quyền sử dụng đất", 5},
    {"construction_permit", "Giấy phép xây dựng", 5},
    {"certification", "Chứng thực, hộ tịch", 5},
    {"one_stop_delay", "Trễ hẹn bộ phận một cửa", 5},
    {"health_station", "Trạm y tế xã", 6},
    {"primary_school", "Trường tiểu học", 6},
    {"electricity", "Điện", 6},
    {"roads", "Đường giao thông", 6},
    {"clean_water", "Nước sạch", 6},
    {"public_security", "An ninh trật tự", 6},
    {"flooding", "Ngập úng, thoát nước", 6},
    {"waste", "Rác thải, vệ sinh môi trường", 7},
    {"pollution", "Ô nhiễm môi trường", 7},
    {"natural_resources", "Khai thác tài nguyên trái phép", 7},
    {"online_service", "Dịch vụ công trực tuyến", 8},
    {"commune_website", "Cổng thông tin điện tử xã", 8},
};

static const struct seed svcs[] = {
    {"one_stop", "Bộ phận một cửa", 5},
    {"health_station", "Trạm y tế", 6},
    {"school", "Trường học", 6},
    {"security", "An ninh trật tự", 6},
    {"infrastructure", "Đường, điện, nước", 6},
    {"waste", "Thu gom rác", 7},
    {"online_service", "Dịch vụ công trực tuyến", 8},
};

/* Communes the "database" knows: code, name, long name. */
static const char *const units[][3] = {
    {"00004", "Xã Tân Lập",
     "Xã Tân Lập Đông Nam thuộc huyện Đồng Văn tỉnh Hà Giang mới"},
    {"00007", "Phường Phúc Xá",
     "Phường Phúc Xá Bắc Ninh Thuận Hải Dương Quảng Nam Đà Nẵng"},
};

/* Copy seeds into items, n of them. */
static struct ussd_item *
items(const struct seed *s, size_t n, size_t *count, int long_labels)
{
	struct ussd_item *v = xcalloc(n + 1, sizeof *v);
	struct buf b;

	for (size_t i = 0; i < n; i++) {
		v[i].code = xstrdup(s[i].code);
		buf_init(&b);
		buf_adds(&b, s[i].label);
		if (long_labels)
			buf_adds(&b, " (mục rất dài để phải sang trang)");
		v[i].label = buf_detach(&b);
		v[i].dim = s[i].dim;
	}
	*count = n;
	return v;
}

/* Fill a context as the database would for a fixture. */
static void
ctx_build(struct ussd_ctx *ctx, const struct fixture *f)
{
	int name = f->long_labels ? 2 : 1;

	memset(ctx, 0, sizeof *ctx);
	ctx->diacritics = f->diacritics;
	ctx->example = xstrdup("00004");
	ctx->dims = f->long_labels ? items(long_dims, 8, &ctx->ndims, 0)
	                           : items(dims, 8, &ctx->ndims, 0);
	ctx->cats = f->sparse
	                ? items(cats, 7, &ctx->ncats, 0)
	                : items(cats, LEN(cats), &ctx->ncats, f->long_labels);
	if (!f->sparse)
		ctx->svcs = items(svcs, LEN(svcs), &ctx->nsvcs, f->long_labels);
	if (f->home) {
		ctx->home_code = xstrdup(units[0][0]);
		ctx->home_name = xstrdup(units[0][name]);
	}
	if (f->answered) {
		ctx->answered_id = 42;
		ctx->answered_ticket = xstrdup(TICKET);
	}
	if (f->open) {
		ctx->open = xcalloc(5, sizeof *ctx->open);
		for (size_t i = 0; i < 5; i++) {
			ctx->open[i].ticket = xstrdup(i % 2 ? TICKET2 : TICKET);
			ctx->open[i].status = xstrdup(
			    i % 2 ? "đã được trả lời" : "đang được xử lý");
			ctx->open[i].due = xstrdup(i == 4 ? "" : "20/06/2025");
		}
		ctx->nopen = 5;
	}
}

/* What the database says about this step's input as a commune code. */
static void
ctx_lookup(struct ussd_ctx *ctx, const struct fixture *f, const char *in)
{
	free(ctx->unit_code);
	free(ctx->unit_name);
	ctx->unit_code = ctx->unit_name = NULL;
	for (size_t i = 0; i < LEN(units); i++) {
		if (strcmp(in, units[i][0]) == 0) {
			ctx->unit_code = xstrdup(units[i][0]);
			ctx->unit_name =
			    xstrdup(units[i][f->long_labels ? 2 : 1]);
		}
	}
}

/* Fail unless an answer is well formed and fits. */
static void
assert_screen(const struct ussd_ctx *ctx, const struct ussd_out *out,
              const char *where)
{
	ck_assert_msg(out->screen != NULL && out->screen[0] != '\0',
	              "%s: empty screen", where);
	ck_assert_msg(ussd_len(out->screen) <= USSD_MAX,
	              "%s: %d characters: \"%s\"", where, ussd_len(out->screen),
	              out->screen);
	ck_assert_msg(ctx->diacritics || sms_is_gsm7(out->screen),
	              "%s: not GSM-7 without diacritics: \"%s\"", where,
	              out->screen);
	ck_assert_msg(out->end || out->action == UA_NONE,
	              "%s: an action on a CON screen", where);
}

/* Save and reload the state through JSON, as between two steps. */
static void
state_reload(struct ussd_state *st)
{
	char *json = ussd_state_json(st), *again, *cause = NULL;

	ussd_state_clear(st);
	ck_assert_int_eq(ussd_state_parse(st, json, &cause), 0);
	again = ussd_state_json(st);
	ck_assert_str_eq(json, again);
	free(json);
	free(again);
}

/* Walk a path of inputs separated by '|' from the start; the last
 * answer is left in out and the state in st. */
static void
walk(const struct fixture *f, struct ussd_ctx *ctx, struct ussd_state *st,
     const char *path, struct ussd_out *out)
{
	char *copy = xstrdup(path), *p = copy, *in;
	int last = path[0] == '\0';

	ctx_build(ctx, f);
	ussd_start(ctx, st, out);
	assert_screen(ctx, out, path);
	while (!last) {
		in = p;
		if ((p = strchr(p, '|')) != NULL)
			*p++ = '\0';
		last = p == NULL;
		state_reload(st);
		ctx_lookup(ctx, f, in);
		ussd_out_clear(out);
		ussd_step(ctx, st, in, out);
		assert_screen(ctx, out, path);
	}
	free(copy);
}

static const struct path_case {
	int fixture;
	const char *path; /* inputs after the first screen, '|' between */
	int end;
	enum ussd_action action;
	const char *want, *want2, *lacks;
} paths[] = {
    /* The main menu, and invalid choices there. */
    {F_HOME, "", 0, UA_NONE, "Phan anh, kien nghi\n1 Gui phan anh",
     "4 Dang ky xa/phuong", "Quay lai"},
    {F_HOME, "7", 0, UA_NONE, "Chon tu 1 den 4.\nPhan anh, kien nghi", NULL,
     NULL},
    {F_HOME, "abc", 0, UA_NONE, "Chon tu 1 den 4.\n", NULL, NULL},
    {F_HOME, "0", 0, UA_NONE, "Chon tu 1 den 4.\n", NULL, NULL},
    {F_DIA, "", 0, UA_NONE, "Phản ánh, kiến nghị\n1 Gửi phản ánh",
     "4 Đăng ký xã/phường", NULL},
    /* New complaint: dimension, category, commune, text, confirm. */
    {F_HOME, "1", 0, UA_NONE, "Chon linh vuc:\n1 Tham gia\n2 Minh bach",
     "8 Dien tu\n0 Quay lai", "9 Xem them"},
    {F_HOME, "1|6", 0, UA_NONE, "Chon van de:\n1 Tram y te xa",
     "7 Ngap ung, thoat nuoc\n0 Quay lai", NULL},
    {F_HOME, "1|6|1", 0, UA_NONE, "Xa/phuong noi xay ra:\n1 Xa Tan Lap",
     "hoac nhap ma xa/phuong khac\n0 Quay lai", NULL},
    {F_HOME, "1|6|1|1", 0, UA_NONE, "Nhap noi dung phan anh:\n0 Quay lai", NULL,
     NULL},
    {F_HOME, "1|6|1|1| Tram y te dong cua ", 0, UA_NONE,
     "Gui phan anh?\nTram y te xa, Xa Tan Lap\n\"Tram y te dong cua\"",
     "1 Gui\n0 Quay lai", NULL},
    {F_HOME, "1|6|1|1|Tram y te dong cua|1", 1, UA_COMPLAINT,
     "Da nhan phan anh, ma {ticket}.", "Tra cuu: TT {ticket}", NULL},
    {F_HOME, "1|6|1|00007|Duong hong*nhieu|1", 1, UA_COMPLAINT, "{ticket}",
     NULL, NULL},
    {F_DIA, "1|6|1|1|Trạm y tế đóng cửa", 0, UA_NONE,
     "Gửi phản ánh?\nTrạm y tế xã, Xã Tân Lập\n\"Trạm y tế đóng cửa\"", NULL,
     NULL},
    {F_NOHOME, "1|6|1", 0, UA_NONE,
     "Xa/phuong noi xay ra:\nNhap ma xa/phuong (VD: 00004)\n0 Quay lai", NULL,
     NULL},
    {F_NOHOME, "1|6|1|00004", 0, UA_NONE, "Nhap noi dung phan anh:", NULL,
     NULL},
    {F_NOHOME, "1|4|1|00007|Can bo doi tien|1", 1, UA_COMPLAINT, "{ticket}",
     NULL, NULL},
    /* Going back with 0, one screen at a time. */
    {F_HOME, "1|0", 0, UA_NONE, "Phan anh, kien nghi\n1 Gui phan anh", NULL,
     NULL},
    {F_HOME, "1|6|0", 0, UA_NONE, "Chon linh vuc:", NULL, NULL},
    {F_HOME, "1|6|1|0", 0, UA_NONE, "Chon van de:", NULL, NULL},
    {F_HOME, "1|6|1|1|0", 0, UA_NONE, "Xa/phuong noi xay ra:", NULL, NULL},
    {F_HOME, "1|6|1|1|x|0", 0, UA_NONE, "Nhap noi dung phan anh:", NULL, NULL},
    {F_HOME, "1|6|1|1|x|0|y", 0, UA_NONE, "\"y\"", NULL, NULL},
    {F_HOME, "1|6|0|5|2|1|z|1", 1, UA_COMPLAINT, "{ticket}", NULL, NULL},
    /* Invalid input re-shows the same screen under one line. */
    {F_HOME, "1|x", 0, UA_NONE, "Lua chon khong hop le.\nChon linh vuc:", NULL,
     NULL},
    {F_HOME, "1|9", 0, UA_NONE, "Lua chon khong hop le.\nChon linh vuc:", NULL,
     NULL},
    {F_HOME, "1|6|8", 0, UA_NONE, "Lua chon khong hop le.\nChon van de:", NULL,
     NULL},
    {F_HOME, "1|6|1|12345", 0, UA_NONE,
     "Ma xa/phuong khong dung.\nXa/phuong noi xay ra:", NULL, NULL},
    {F_NOHOME, "1|6|1|1", 0, UA_NONE, "Ma xa/phuong khong dung.\n", NULL, NULL},
    {F_HOME, "1|6|1|1|  ", 0, UA_NONE,
     "Noi dung trong.\nNhap noi dung phan anh:", NULL, NULL},
    {F_HOME, "1|6|1|1|x|2", 0, UA_NONE, "Lua chon khong hop le.\nGui phan anh?",
     NULL, NULL},
    {F_EMPTY_DIM, "1|8", 0, UA_NONE,
     "Linh vuc nay chua nhan phan anh.\nChon linh vuc:", NULL, NULL},
    /* Paging: the full dimension names do not fit on one screen. */
    {F_LONG, "1", 0, UA_NONE, "Chon linh vuc:\n1 Tham gia cua nguoi dan",
     "\n9 Xem them\n0 Quay lai", "Quan tri dien tu"},
    {F_LONG, "1|9", 0, UA_NONE, "Chon linh vuc:\n1 Kiem soat tham nhung",
     "\n9 Xem them\n0 Quay lai", "Tham gia"},
    {F_LONG, "1|9|9", 0, UA_NONE, "Chon linh vuc:\n1 Quan tri moi truong",
     "2 Quan tri dien tu\n0 Quay lai", "9 Xem them"},
    {F_LONG, "1|9|9|9", 0, UA_NONE, "Lua chon khong hop le.\nChon linh",
     "2 Quan tri dien tu", NULL},
    {F_LONG, "1|9|9|0", 0, UA_NONE, "Chon linh vuc:\n1 Kiem soat", NULL, NULL},
    {F_LONG, "1|9|0", 0, UA_NONE, "Chon linh vuc:\n1 Tham gia cua", NULL, NULL},
    {F_LONG, "1|9|0|0", 0, UA_NONE, "Phan anh, kien nghi", NULL, NULL},
    {F_LONG_DIA, "1|9|9", 0, UA_NONE, "Quản trị điện tử\n0 Quay lại", NULL,
     NULL},
    {F_LONG, "1|9|3", 0, UA_NONE, "Chon van de:\n1 Tram y te xa", "9 Xem",
     NULL},
    {F_LONG, "1|9|3|9|1|1|x|1", 1, UA_COMPLAINT, "{ticket}", NULL, NULL},
    /* Rating the answered complaint. */
    {F_HOME, "2", 0, UA_NONE, "Danh gia:\n1 Phan anh da duoc tra loi " TICKET,
     "2 Dich vu cong cua xa/phuong\n0 Quay lai", NULL},
    {F_HOME, "2|1", 0, UA_NONE, "Phan anh " TICKET " da duoc giai quyet",
     "1 Rat khong hai long\n2 Khong hai long\n3 Binh thuong\n4 Hai long\n"
     "5 Rat hai long\n0 Quay lai",
     NULL},
    {F_HOME, "2|1|5", 1, UA_RATE, "Cam on ban da danh gia: 5/5.", NULL, NULL},
    {F_HOME, "2|1|6", 0, UA_NONE, "Chon tu 1 den 5.\nPhan anh " TICKET, NULL,
     NULL},
    {F_HOME, "2|1|0", 0, UA_NONE, "Danh gia:", NULL, NULL},
    {F_HOME, "2|0", 0, UA_NONE, "Phan anh, kien nghi", NULL, NULL},
    {F_NOHOME, "2|1", 0, UA_NONE,
     "Chua co phan anh nao duoc tra loi.\nDanh gia:", NULL, NULL},
    {F_HOME, "2|3", 0, UA_NONE, "Lua chon khong hop le.\nDanh gia:", NULL,
     NULL},
    /* Rating a service of a commune. */
    {F_HOME, "2|2", 0, UA_NONE, "Chon dich vu:\n1 Bo phan mot cua",
     "7 Dich vu cong truc tuyen\n0 Quay lai", NULL},
    {F_HOME, "2|2|2", 0, UA_NONE, "Dich vu cua xa/phuong:\n1 Xa Tan Lap", NULL,
     NULL},
    {F_HOME, "2|2|2|1", 0, UA_NONE, "Tram y te, Xa Tan Lap da duoc giai quyet",
     NULL, NULL},
    {F_HOME, "2|2|2|00007|4", 1, UA_RATE_SERVICE,
     "Cam on ban da danh gia: 4/5.", NULL, NULL},
    {F_HOME, "2|2|2|1|0", 0, UA_NONE, "Dich vu cua xa/phuong:", NULL, NULL},
    {F_HOME, "2|2|2|0", 0, UA_NONE, "Chon dich vu:", NULL, NULL},
    {F_HOME, "2|2|0", 0, UA_NONE, "Danh gia:", NULL, NULL},
    {F_EMPTY_DIM, "2|2", 0, UA_NONE, "Chua co dich vu de danh gia.\n", NULL,
     NULL},
    {F_LONG, "2|2|9|1", 0, UA_NONE, "Dich vu cua xa/phuong:", NULL, NULL},
    /* Status of the open tickets. */
    {F_HOME, "3", 1, UA_NONE,
     "Phan anh cua ban:\n" TICKET ": dang duoc xu ly, han 20/06/2025\n" TICKET2
     ": da duoc tra loi, han 20/06/2025",
     NULL, NULL},
    {F_DIA, "3", 1, UA_NONE, TICKET ": đang được xử lý, hạn 20/06/2025", NULL,
     NULL},
    {F_NOHOME, "3", 1, UA_NONE, "Ban khong co phan anh nao dang xu ly.", NULL,
     NULL},
    /* Registering the home commune. */
    {F_HOME, "4", 0, UA_NONE,
     "Xa/phuong da dang ky: Xa Tan Lap\nNhap ma moi (VD: 00004)\n0 Quay lai",
     NULL, NULL},
    {F_NOHOME, "4", 0, UA_NONE,
     "Nhap ma xa/phuong cua ban (VD: 00004)\n0 Quay lai", NULL, NULL},
    {F_NOHOME, "4|00007", 1, UA_REGISTER,
     "Da dang ky xa/phuong: Phuong Phuc Xa.", NULL, NULL},
    {F_HOME, "4|1", 0, UA_NONE, "Ma xa/phuong khong dung.\n", NULL, NULL},
    {F_HOME, "4|0", 0, UA_NONE, "Phan anh, kien nghi", NULL, NULL},
    /* After the end, nothing more happens. */
    {F_HOME, "3|1", 1, UA_NONE, "Phien da ket thuc.", NULL, NULL},
    {F_HOME, "4|00004|1", 1, UA_NONE, "Phien da ket thuc.", NULL, NULL},
};

/* Each path of inputs leads to its screen and action. */
START_TEST(test_paths)
{
	const struct path_case *c = &paths[_i];
	const struct fixture *f = &fixtures[c->fixture];
	struct ussd_ctx ctx;
	struct ussd_state st;
	struct ussd_out out;
	char *answer;

	walk(f, &ctx, &st, c->path, &out);
	ck_assert_msg(out.end == c->end, "%s \"%s\": end %d, want %d: %s",
	              f->name, c->path, out.end, c->end, out.screen);
	ck_assert_msg(out.action == c->action, "%s \"%s\": action %s, want %s",
	              f->name, c->path, ussd_action_name(out.action),
	              ussd_action_name(c->action));
	ck_assert_msg(strstr(out.screen, c->want) != NULL,
	              "%s \"%s\": \"%s\" lacks \"%s\"", f->name, c->path,
	              out.screen, c->want);
	ck_assert_msg(c->want2 == NULL || strstr(out.screen, c->want2) != NULL,
	              "%s \"%s\": \"%s\" lacks \"%s\"", f->name, c->path,
	              out.screen, c->want2);
	ck_assert_msg(c->lacks == NULL || strstr(out.screen, c->lacks) == NULL,
	              "%s \"%s\": \"%s\" has \"%s\"", f->name, c->path,
	              out.screen, c->lacks);
	answer = ussd_answer(&out);
	ck_assert_str_eq(answer + 4, out.screen);
	ck_assert(strncmp(answer, c->end ? "END " : "CON ", 4) == 0);
	free(answer);
	ussd_out_clear(&out);
	ussd_state_clear(&st);
	ussd_ctx_clear(&ctx);
}
END_TEST

/* What each final action carries to the database. */
static const struct action_case {
	int fixture;
	const char *path;
	const char *json;
} actions[] = {
    {F_HOME, "1|6|1|1|Tram y te dong cua|1",
     "{\"kind\":\"complaint\",\"category\":\"health_station\","
     "\"unit\":\"00004\",\"text\":\"Tram y te dong cua\",\"complaint\":0,"
     "\"score\":0,\"dim\":6}"},
    {F_HOME, "1|6|1|00007|Duong hong*nhieu|1",
     "{\"kind\":\"complaint\",\"category\":\"health_station\","
     "\"unit\":\"00007\",\"text\":\"Duong hong*nhieu\",\"complaint\":0,"
     "\"score\":0,\"dim\":6}"},
    {F_HOME, "2|1|2",
     "{\"kind\":\"rate\",\"complaint\":42,\"score\":2,\"dim\":0,"
     "\"fail\":\"Phan anh " TICKET " khong con cho danh gia.\"}"},
    {F_HOME, "2|2|2|1|4",
     "{\"kind\":\"rate_service\",\"service\":\"health_station\","
     "\"unit\":\"00004\",\"complaint\":0,\"score\":4,\"dim\":6}"},
    {F_NOHOME, "4|00007",
     "{\"kind\":\"register\",\"unit\":\"00007\",\"complaint\":0,"
     "\"score\":0,\"dim\":0}"},
    {F_HOME, "1|6", NULL},
};

/* The action JSON of final steps; none before. */
START_TEST(test_actions)
{
	const struct action_case *c = &actions[_i];
	struct ussd_ctx ctx;
	struct ussd_state st;
	struct ussd_out out;
	char *json;

	walk(&fixtures[c->fixture], &ctx, &st, c->path, &out);
	json = ussd_action_json(&st, &out);
	if (c->json == NULL)
		ck_assert_ptr_null(json);
	else
		ck_assert_str_eq(json, c->json);
	free(json);
	ussd_out_clear(&out);
	ussd_state_clear(&st);
	ussd_ctx_clear(&ctx);
}
END_TEST

/* Inputs tried on every screen by the exhaustive walk. */
static const char *const alphabet[] = {
    "0",
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "7",
    "8",
    "9",
    "",
    " ",
    "x",
    "00004",
    "00007",
    "12345",
    "Đường liên thôn hỏng nặng, xe không đi được, trẻ em đi học rất khó "
    "khăn, đề nghị xã sửa gấp trước mùa mưa; [chi tiết] {xem} ~ | \\ ^ € "
    "và một câu nữa cho thật dài để vượt quá mọi giới hạn màn hình 182",
};

#define MAX_STATES 8192 /* a power of two */

/* Every state reachable in a fixture, by its JSON: a list in the order
 * found and an open-addressing hash set over it. */
struct seen {
	char *json[MAX_STATES];
	size_t n;
	int slot[MAX_STATES * 2]; /* index + 1, 0 when free */
};

/* FNV-1a. */
static size_t
hash(const char *s)
{
	size_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Add a state unless it was seen; 1 if it is new. */
static int
seen_add(struct seen *s, const char *json)
{
	size_t i = hash(json) & (MAX_STATES * 2 - 1);

	for (; s->slot[i] != 0; i = (i + 1) & (MAX_STATES * 2 - 1)) {
		if (strcmp(s->json[s->slot[i] - 1], json) == 0)
			return 0;
	}
	ck_assert_msg(s->n < MAX_STATES, "more than %d states", MAX_STATES);
	s->json[s->n++] = xstrdup(json);
	s->slot[i] = (int)s->n;
	return 1;
}

/* Try every input on one state; queue the states it leads to. */
static void
explore(const struct fixture *f, struct ussd_ctx *ctx, struct seen *s,
        const char *from, size_t *screens)
{
	struct ussd_state st;
	struct ussd_out out;
	char *cause = NULL, *json, where[256];

	for (size_t i = 0; i < LEN(alphabet); i++) {
		ck_assert_int_eq(ussd_state_parse(&st, from, &cause), 0);
		ctx_lookup(ctx, f, alphabet[i]);
		ussd_step(ctx, &st, alphabet[i], &out);
		snprintf(where, sizeof where, "%s: %s + \"%.10s\"", f->name,
		         from, alphabet[i]);
		assert_screen(ctx, &out, where);
		(*screens)++;
		json = ussd_state_json(&st);
		seen_add(s, json);
		free(json);
		ussd_out_clear(&out);
		ussd_state_clear(&st);
	}
}

/* Every screen of every path fits 182 characters (and GSM-7 when
 * folded): all reachable states, every input on each. */
START_TEST(test_every_screen_fits)
{
	const struct fixture *f = &fixtures[_i];
	struct seen *s = xcalloc(1, sizeof *s);
	struct ussd_ctx ctx;
	struct ussd_state st;
	struct ussd_out out;
	size_t screens = 1;
	char *json;

	ctx_build(&ctx, f);
	ussd_start(&ctx, &st, &out);
	assert_screen(&ctx, &out, f->name);
	json = ussd_state_json(&st);
	seen_add(s, json);
	free(json);
	for (size_t i = 0; i < s->n; i++)
		explore(f, &ctx, s, s->json[i], &screens);
	ck_assert_msg(s->n > 20, "%s: only %zu states", f->name, s->n);
	for (size_t i = 0; i < s->n; i++)
		free(s->json[i]);
	free(s);
	ussd_out_clear(&out);
	ussd_state_clear(&st);
	ussd_ctx_clear(&ctx);
}
END_TEST

/* What a step from a state (JSON) with an input gives: the answer, the
 * action (JSON), the END screen if it fails, the state after it. */
static char *
step_outcome(const struct ussd_ctx *ctx, const char *from, const char *in)
{
	struct ussd_state st;
	struct ussd_out out;
	char *cause = NULL, *answer, *action, *json, *r;

	ck_assert_int_eq(ussd_state_parse(&st, from, &cause), 0);
	ussd_step(ctx, &st, in, &out);
	answer = ussd_answer(&out);
	action = ussd_action_json(&st, &out);
	json = ussd_state_json(&st);
	r = xasprintf("%s\n%s\n%s\n%s", answer, action != NULL ? action : "-",
	              out.fail != NULL ? out.fail : "-", json);
	free(answer);
	free(action);
	free(json);
	ussd_out_clear(&out);
	ussd_state_clear(&st);
	return r;
}

/* Issue 12: paknd asks for the citizen's part of the context (home, open
 * tickets, the answered complaint) only when the next step can read it
 * (ussd_reads_citizen); else the step is computed from '{}'. Every
 * reachable state the machine says does not read it gives the same step,
 * for every input, with the citizen's part and without (nor a commune
 * looked up: only the commune screens have one, and they read it). */
START_TEST(test_citizen_unread)
{
	const struct fixture *f = &fixtures[_i];
	struct fixture bare = *f;
	struct seen *s = xcalloc(1, sizeof *s);
	struct ussd_ctx ctx, none;
	struct ussd_state st;
	struct ussd_out out;
	size_t screens = 1, unread = 0, read = 0;
	char *json, *with, *without;

	bare.home = bare.answered = bare.open = 0;
	ctx_build(&ctx, f);
	ctx_build(&none, &bare);
	ussd_start(&ctx, &st, &out);
	ck_assert(ussd_reads_citizen(&st)); /* the main menu: status, rate */
	json = ussd_state_json(&st);
	seen_add(s, json);
	free(json);
	ussd_out_clear(&out);
	ussd_state_clear(&st);
	for (size_t i = 0; i < s->n; i++) {
		explore(f, &ctx, s, s->json[i], &screens);
		ck_assert_int_eq(ussd_state_parse(&st, s->json[i], NULL), 0);
		if (ussd_reads_citizen(&st)) {
			read++;
			ussd_state_clear(&st);
			continue;
		}
		ussd_state_clear(&st);
		unread++;
		for (size_t k = 0; k < LEN(alphabet); k++) {
			ctx_lookup(&ctx, f, alphabet[k]);
			with = step_outcome(&ctx, s->json[i], alphabet[k]);
			without = step_outcome(&none, s->json[i], alphabet[k]);
			ck_assert_msg(
			    strcmp(with, without) == 0,
			    "%s: %s + \"%.10s\": with the citizen:\n%s\n"
			    "without:\n%s",
			    f->name, s->json[i], alphabet[k], with, without);
			free(with);
			free(without);
		}
	}
	/* Not vacuous: the lists, the confirmation and the end are many of
	 * the states. */
	ck_assert_msg(unread > 10 && read > 10, "%s: %zu unread, %zu read",
	              f->name, unread, read);
	for (size_t i = 0; i < s->n; i++)
		free(s->json[i]);
	free(s);
	ussd_ctx_clear(&ctx);
	ussd_ctx_clear(&none);
}
END_TEST

/* The fixed END screens fit and fold. */
START_TEST(test_fixed_screens)
{
	char *e = ussd_expired(0), *u = ussd_unavailable(0);
	char *ed = ussd_expired(1);

	ck_assert_str_eq(e, "END Phien da het han. Vui long quay so lai.");
	ck_assert_str_eq(u, "END He thong dang ban. Vui long thu lai sau.");
	ck_assert_str_eq(ed, "END Phiên đã hết hạn. Vui lòng quay số lại.");
	ck_assert_int_le(ussd_len(e + 4), USSD_MAX);
	free(e);
	free(u);
	free(ed);
	ck_assert_int_eq(ussd_len("abc"), 3);
	ck_assert_int_eq(ussd_len("[€]"), 6);
	ck_assert_int_eq(ussd_len("Đường"), 5);
}
END_TEST

static const struct input_case {
	const char *prev, *text;
	int cumulative;
	const char *want;
} inputs[] = {
    {NULL, "", 1, ""},
    {"", "1", 1, "1"},
    {"1", "1*6", 1, "6"},
    {"1*6*1*1", "1*6*1*1*Duong hong*nhieu", 1, "Duong hong*nhieu"},
    {"1*6*1*1", "1*6*1*1*", 1, ""},
    {"1*6", "1*6*1*00004", 1, "1*00004"},
    {"1*6", "2*5", 1, "5"},
    {"1", "1", 1, "1"},
    {NULL, "3", 0, "3"},
    {"1", "6", 0, "6"},
    {"1", "a*b", 0, "a*b"},
};

/* The input of a step, with cumulative text or not. */
START_TEST(test_input)
{
	const struct input_case *c = &inputs[_i];

	ck_assert_str_eq(ussd_input(c->prev, c->text, c->cumulative), c->want);
}
END_TEST

/* The last input of a text, for the lookup of a code. */
START_TEST(test_last_input)
{
	ck_assert_str_eq(ussd_last_input(""), "");
	ck_assert_str_eq(ussd_last_input("1*6*00004"), "00004");
	ck_assert_str_eq(ussd_last_input("1*"), "");
	ck_assert_str_eq(ussd_last_input("00004"), "00004");
}
END_TEST

/* The context as pakn.ussd_menus and pakn.ussd_citizen write it; malformed ones
 * refused. */
START_TEST(test_ctx_parse)
{
	struct ussd_ctx ctx = {.diacritics = 1};
	char *cause = NULL;

	ck_assert_int_eq(
	    ussd_ctx_parse(
	        &ctx,
	        "{\"home\":{\"code\":\"00004\",\"name\":\"Xã A\"},"
	        "\"example\":\"00001\",\"unit\":null,"
	        "\"dims\":[{\"code\":\"1\",\"label\":\"Tham gia\"}],"
	        "\"cats\":[{\"code\":\"general\",\"label\":\"Chung\","
	        "\"dim\":3}],\"svcs\":null,"
	        "\"open\":[{\"ticket\":\"" TICKET "\",\"status\":"
	        "\"đang được xử lý\",\"due\":\"20/06/2025\"}],"
	        "\"answered\":{\"id\":7,\"ticket\":\"" TICKET "\"}}",
	        &cause),
	    0);
	ck_assert_int_eq(ctx.diacritics, 1);
	ck_assert_str_eq(ctx.home_code, "00004");
	ck_assert_str_eq(ctx.home_name, "Xã A");
	ck_assert_str_eq(ctx.example, "00001");
	ck_assert_ptr_null(ctx.unit_code);
	ck_assert_uint_eq(ctx.ndims, 1);
	ck_assert_uint_eq(ctx.ncats, 1);
	ck_assert_int_eq(ctx.cats[0].dim, 3);
	ck_assert_uint_eq(ctx.nsvcs, 0);
	ck_assert_uint_eq(ctx.nopen, 1);
	ck_assert_str_eq(ctx.open[0].due, "20/06/2025");
	ck_assert_int_eq(ctx.answered_id, 7);
	ussd_ctx_clear(&ctx);
	ck_assert_int_eq(ussd_ctx_parse(&ctx, "[]", &cause), -1);
	ck_assert_str_eq(cause, "not a USSD context");
	free(cause);
	cause = NULL;
	ck_assert_int_eq(
	    ussd_ctx_parse(&ctx, "{\"dims\":[{\"code\":1}]}", &cause), -1);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(ussd_ctx_parse(&ctx, "{\"open\":{}}", &cause), -1);
	free(cause);
	ck_assert_int_eq(ussd_ctx_parse(&ctx, "{}", NULL), 0);
	ck_assert_str_eq(ctx.example, "00004");
	ussd_ctx_clear(&ctx);
}
END_TEST

/* States survive JSON; anything else is refused. */
START_TEST(test_state_parse)
{
	static const char *bad[] = {
	    "",
	    "null",
	    "[]",
	    "{}",
	    "{\"screen\":\"nowhere\",\"flow\":\"ticket\"}",
	    "{\"screen\":\"main\",\"flow\":\"x\"}"};
	struct ussd_state st;
	char *cause = NULL, *json;

	for (size_t i = 0; i < LEN(bad); i++) {
		ck_assert_int_eq(ussd_state_parse(&st, bad[i], &cause), -1);
		ck_assert_str_eq(cause, "not a USSD state");
		free(cause);
		cause = NULL;
	}
	ck_assert_int_eq(ussd_state_parse(&st,
	                                  "{\"screen\":\"score\",\"flow\":"
	                                  "\"ticket\",\"page\":-4,\"dim\":99,"
	                                  "\"cid\":12,\"ticket\":\"" TICKET
	                                  "\"}",
	                                  &cause),
	                 0);
	ck_assert_int_eq(st.screen, US_SCORE);
	ck_assert_int_eq(st.flow, UF_TICKET);
	ck_assert_int_eq(st.page, 0);
	ck_assert_int_eq(st.dim, 0);
	ck_assert_int_eq(st.cid, 12);
	json = ussd_state_json(&st);
	ck_assert_str_eq(json, "{\"screen\":\"score\",\"flow\":\"ticket\","
	                       "\"page\":0,\"dim\":0,\"ticket\":\"" TICKET
	                       "\",\"cid\":12,\"score\":0}");
	free(json);
	ussd_state_clear(&st);
}
END_TEST

/* A session kept with a given step. */
static void
keep(struct ussd_cache *c, const char *session, int step)
{
	struct ussd_kept k = {.msisdn = "+84912000001",
	                      .step = step,
	                      .prev = "1*2",
	                      .state = "{\"screen\": \"cat\"}",
	                      .citizen = "{\"home\": null}",
	                      .at = 1.5};

	ussd_cache_put(c, "at", session, &k);
}

/* The sessions kept: found by gateway and session, replaced, dropped,
 * and the one used longest ago forgotten when the cache is full. */
START_TEST(test_cache_sessions)
{
	struct ussd_cache *c = ussd_cache_new(3);
	const struct ussd_kept *k;

	ck_assert_ptr_null(ussd_cache_get(c, "at", "s1"));
	keep(c, "s1", 1);
	keep(c, "s2", 2);
	keep(c, "s3", 3);
	k = ussd_cache_get(c, "at", "s1"); /* s1 used: s2 is the oldest */
	ck_assert_ptr_nonnull(k);
	ck_assert_int_eq(k->step, 1);
	ck_assert_str_eq(k->prev, "1*2");
	ck_assert_str_eq(k->citizen, "{\"home\": null}");
	ck_assert_ptr_null(ussd_cache_get(c, "kannel", "s1"));
	ck_assert_ptr_null(ussd_cache_get(c, "at", "s"));
	keep(c, "s4", 4);
	ck_assert_uint_eq(ussd_cache_count(c), 3);
	ck_assert_ptr_null(ussd_cache_get(c, "at", "s2"));
	ck_assert_ptr_nonnull(ussd_cache_get(c, "at", "s3"));
	keep(c, "s3", 7); /* replaced, not added */
	ck_assert_uint_eq(ussd_cache_count(c), 3);
	ck_assert_int_eq(ussd_cache_get(c, "at", "s3")->step, 7);
	ussd_cache_drop(c, "at", "s3");
	ussd_cache_drop(c, "at", "s3");
	ck_assert_ptr_null(ussd_cache_get(c, "at", "s3"));
	ck_assert_uint_eq(ussd_cache_count(c), 2);
	for (int i = 0; i < 1000; i++) {
		char sid[16];

		snprintf(sid, sizeof sid, "x%d", i);
		keep(c, sid, i);
	}
	ck_assert_uint_eq(ussd_cache_count(c), 3);
	ck_assert_int_eq(ussd_cache_get(c, "at", "x999")->step, 999);
	ussd_cache_free(c);
}
END_TEST

/* A step's context: the menus kept, parsed once and lent, with the
 * citizen's part, as if both were one object; none before the menus are
 * known. */
START_TEST(test_cache_ctx)
{
	struct ussd_cache *c = ussd_cache_new(8);
	struct ussd_ctx ctx = {.diacritics = 1};
	char *cause = NULL;

	ck_assert_int_eq(ussd_cache_menus_version(c), 0);
	ck_assert_int_eq(ussd_cache_ctx(c, "{}", &ctx, &cause), -1);
	ck_assert_str_eq(cause, "no USSD menus");
	free(cause);
	cause = NULL;
	ussd_cache_set_menus(
	    c, 7,
	    "{\"dims\": [{\"code\": \"6\", \"label\": \"Dịch vụ công\"}], "
	    "\"example\": \"00010\"}");
	ck_assert_int_eq(ussd_cache_menus_version(c), 7);
	ck_assert_msg(ussd_cache_ctx(c,
	                             " {\"home\": {\"code\": \"00007\", "
	                             "\"name\": \"Phường Ngọc Hà\"}, "
	                             "\"open\": [{\"ticket\": \"K7Q2M9\"}]} ",
	                             &ctx, &cause) == 0,
	              "%s", cause);
	ck_assert_int_eq(ctx.diacritics, 1);
	ck_assert_uint_eq(ctx.ndims, 1);
	ck_assert_str_eq(ctx.dims[0].label, "Dịch vụ công");
	ck_assert_str_eq(ctx.home_code, "00007");
	ck_assert_str_eq(ctx.example, "00010");
	ck_assert_uint_eq(ctx.nopen, 1);
	ck_assert_str_eq(ctx.open[0].ticket, "K7Q2M9");
	ck_assert_uint_eq(ctx.ncats, 0);
	ussd_ctx_clear(&ctx);
	/* The lent lists outlive the step's context: the next step reads
	 * them again (ASan would see them freed). */
	ck_assert_int_eq(ussd_cache_ctx(c, "{}", &ctx, NULL), 0);
	ck_assert_str_eq(ctx.dims[0].code, "6");
	ck_assert_ptr_null(ctx.home_code);
	ussd_ctx_clear(&ctx);
	/* A member of the citizen's part wins over the menus'. */
	ck_assert_int_eq(ussd_cache_ctx(c,
	                                "{\"dims\": [], \"example\": "
	                                "\"00004\"}",
	                                &ctx, NULL),
	                 0);
	ck_assert_uint_eq(ctx.ndims, 0);
	ck_assert_str_eq(ctx.example, "00004");
	ussd_ctx_clear(&ctx);
	ck_assert_int_eq(ussd_cache_ctx(c, "[]", &ctx, &cause), -1);
	ck_assert_str_eq(cause, "not a USSD context");
	free(cause);
	cause = NULL;
	ck_assert_int_eq(ussd_cache_ctx(c, "", &ctx, NULL), -1);
	/* Menus without an example: the default one. */
	ussd_cache_set_menus(c, 8, "{}");
	ck_assert_int_eq(ussd_cache_ctx(c, "{\"open\": []}", &ctx, NULL), 0);
	ck_assert_uint_eq(ctx.ndims, 0);
	ck_assert_str_eq(ctx.example, "00004");
	ussd_ctx_clear(&ctx);
	/* Menus the machine cannot read: no step from them. */
	ussd_cache_set_menus(c, 9, "{\"dims\": 5}");
	ck_assert_int_eq(ussd_cache_ctx(c, "{}", &ctx, &cause), -1);
	ck_assert_str_eq(cause, "not USSD menus");
	free(cause);
	ussd_cache_free(c);
}
END_TEST

/* Build the suite. */
static Suite *
ussd_suite(void)
{
	Suite *s = suite_create("ussd");
	TCase *tc = tcase_create("menus");

	tcase_add_loop_test(tc, test_paths, 0, (int)LEN(paths));
	tcase_add_loop_test(tc, test_actions, 0, (int)LEN(actions));
	tcase_add_loop_test(tc, test_every_screen_fits, 0, NFIXTURES);
	tcase_add_loop_test(tc, test_citizen_unread, 0, NFIXTURES);
	tcase_add_test(tc, test_fixed_screens);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	tc = tcase_create("protocol");
	tcase_add_loop_test(tc, test_input, 0, (int)LEN(inputs));
	tcase_add_test(tc, test_last_input);
	tcase_add_test(tc, test_ctx_parse);
	tcase_add_test(tc, test_state_parse);
	suite_add_tcase(s, tc);
	tc = tcase_create("cache");
	tcase_add_test(tc, test_cache_sessions);
	tcase_add_test(tc, test_cache_ctx);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite. */
int
main(void)
{
	SRunner *sr = srunner_create(ussd_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
