using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Flowith2Api.AdminService.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ApiKeyTombstones : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "Deleted",
                table: "api_keys",
                type: "INTEGER",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Deleted",
                table: "api_keys");
        }
    }
}
