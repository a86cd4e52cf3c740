using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Flowith2Api.AdminService.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class StatsRollups : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "stats_rollups",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Taken = table.Column<long>(type: "INTEGER", nullable: false),
                    CountersJson = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_stats_rollups", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_stats_rollups_Taken",
                table: "stats_rollups",
                column: "Taken");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "stats_rollups");
        }
    }
}
